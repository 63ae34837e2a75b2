package localfs

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bulwark-dev/bulwark/internal/config"
)

// ErrBadSignature is the one answer to every invalid signed URL: tampered,
// expired, unknown key id, key for another object. Telling them apart
// would help whoever is probing.
var ErrBadSignature = errors.New("invalid or expired download link") //nolint:gochecknoglobals // sentinel.

// Signer makes and checks the signed download URLs of the local backend:
// an HMAC-SHA256 over the method, the object key and the expiry, keyed by a
// server secret. Like S3's presigned URLs, the link is the permission: the
// download route needs no session, so it can be handed to a browser or a
// download manager, and it dies after a short TTL.
type Signer struct {
	keys    map[string][]byte
	current config.SigningKey
	now     func() time.Time
}

// NewSigner takes a key ring: the first key signs, all verify, so keys
// rotate without breaking links in flight.
func NewSigner(keys []config.SigningKey) (*Signer, error) {
	if len(keys) == 0 {
		return nil, errors.New("no URL signing key configured")
	}
	ring := make(map[string][]byte, len(keys))
	for _, k := range keys {
		// A key of its own for this use, derived, so that URL signatures and
		// the key's other uses can never be swapped for each other.
		ring[k.ID] = derive(k.Secret)
	}
	return &Signer{keys: ring, current: keys[0], now: time.Now}, nil
}

func derive(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("bulwark/files/download-url/v1"))
	return m.Sum(nil)
}

// Sign returns the query string granting method on key until now+ttl.
func (s *Signer) Sign(method, key string, ttl time.Duration) (url.Values, time.Time) {
	expires := s.now().Add(ttl).Truncate(time.Second)
	exp := strconv.FormatInt(expires.Unix(), 10)
	q := url.Values{}
	q.Set("key", key)
	q.Set("expires", exp)
	q.Set("kid", s.current.ID)
	q.Set("signature", base64.RawURLEncoding.EncodeToString(mac(s.keys[s.current.ID], method, key, exp)))
	return q, expires
}

// Verify checks a signed query for method and returns the key it grants.
func (s *Signer) Verify(method string, q url.Values) (string, error) {
	key, exp, kid, sig := q.Get("key"), q.Get("expires"), q.Get("kid"), q.Get("signature")
	secret, ok := s.keys[kid]
	if !ok || key == "" || exp == "" || len(sig) > 128 {
		return "", ErrBadSignature
	}
	// Strict: one spelling per signature (the unused low bits of the last
	// character must be zero), so a link has exactly one valid form. The
	// decoder skips CR and LF even in strict mode, so they are refused
	// first (found by FuzzSignedURL).
	if strings.ContainsAny(sig, "\r\n") {
		return "", ErrBadSignature
	}
	got, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil {
		return "", ErrBadSignature
	}
	// Constant-time comparison: timing must not reveal how much of a
	// guessed signature was right.
	if !hmac.Equal(got, mac(secret, method, key, exp)) {
		return "", ErrBadSignature
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !s.now().Before(time.Unix(unix, 0)) {
		return "", ErrBadSignature
	}
	return key, nil
}

// mac covers the three values with a separator that cannot occur in any of
// them, so no two (method, key, expiry) triples share a message.
func mac(secret []byte, method, key, exp string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(method + "\n" + key + "\n" + exp))
	return m.Sum(nil)
}
