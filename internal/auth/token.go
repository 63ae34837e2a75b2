package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/bulwark-dev/bulwark/internal/config"
)

// signingMethod is pinned: the parser accepts HS256 and nothing else, so
// "alg":"none" and algorithm-swap tokens are refused before any key is
// looked at. Why HS256 and not RS256/EdDSA is in docs/auth.md: this service
// both issues and verifies its tokens, so a public key buys nothing, and
// HMAC is the cheapest check on every request.
const signingMethod = "HS256"

// leeway tolerates small clock differences between instances, no more.
const leeway = 30 * time.Second

// ErrInvalidToken is the one answer to every bad access token: expired,
// forged, wrong audience, unknown key. Telling them apart would only help an
// attacker probe.
var ErrInvalidToken = errors.New("invalid access token")

// Claims are the access token's claims. Role is informational for clients;
// authorization for admin routes reads the role from the database.
type Claims struct {
	jwt.RegisteredClaims
	Role string `json:"role"`
	// Session names the refresh family the token was issued with (logout
	// and reuse revoke it) and Version the user's token version then (a
	// password change, "sign out everywhere" and a change of role bump
	// it). The database checks both in front of every statement of a
	// request (postgres.Identity.InSession), so a revoked session ends at
	// once, not when the token expires.
	Session string `json:"sid"`
	Version int32  `json:"sv"`
	// AMR (RFC 8176) says how the holder proved who they are: ["pwd"] for
	// a password, ["pwd","otp","mfa"] with a second factor. MFAAt is when
	// the second factor was checked; routes that need a recent one read
	// it (RequireRecentMFA). A refreshed token does not carry MFAAt: a
	// refresh token proves a session, not a factor.
	AMR   []string         `json:"amr,omitempty"`
	MFAAt *jwt.NumericDate `json:"mfa_at,omitempty"`
}

// Grant is what an access token is issued for: a user, in one session, at
// one token version, with or without a second factor.
type Grant struct {
	UserID  uuid.UUID
	Role    string
	Session uuid.UUID // the refresh token family
	Version int32     // users.token_version when the token was signed
	// MFAAt is when a second factor was checked for this token; zero when
	// none was (a password alone, or a refresh). A step-up keeps the
	// session and version of the token it steps up from (Service.StepUp),
	// so it ends with that session: logout, a revoked family, a password
	// change or a change of role end the stepped-up token too.
	MFAAt time.Time
}

// Tokens issues and verifies access tokens.
type Tokens struct {
	keys     map[string]*verifyKey
	current  config.SigningKey
	issuer   string
	audience string
	ttl      time.Duration
	now      func() time.Time
}

// verifyKey is one key of the ring, parsed once: its HMAC states are
// pooled, so checking a token allocates no hash (docs/performance.md).
type verifyKey struct {
	macs sync.Pool
}

func newVerifyKey(secret []byte) *verifyKey {
	secret = bytes.Clone(secret)
	return &verifyKey{macs: sync.Pool{New: func() any { return hmac.New(sha256.New, secret) }}}
}

// NewTokens builds the token service from the configured key ring. The first
// key signs; every key verifies, which is how keys rotate: add the new key
// first, keep the old one until the tokens it signed have expired.
func NewTokens(keys []config.SigningKey, issuer, audience string, ttl time.Duration) (*Tokens, error) {
	if len(keys) == 0 {
		return nil, errors.New("no token signing key configured")
	}
	ring := make(map[string]*verifyKey, len(keys))
	for _, k := range keys {
		ring[k.ID] = newVerifyKey(k.Secret)
	}
	return &Tokens{
		keys:     ring,
		current:  keys[0],
		issuer:   issuer,
		audience: audience,
		ttl:      ttl,
		now:      time.Now,
	}, nil
}

// TTL is the lifetime of an access token.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// Issue signs an access token for the grant's user and session.
func (t *Tokens) Issue(g Grant) (string, error) {
	now := t.now()
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.issuer,
			Subject:   g.UserID.String(),
			Audience:  jwt.ClaimStrings{t.audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
			ID:        uuid.NewString(),
		},
		Role:    g.Role,
		Session: g.Session.String(),
		Version: g.Version,
		AMR:     []string{"pwd"},
	}
	if !g.MFAAt.IsZero() {
		claims.AMR = []string{"pwd", "otp", "mfa"}
		claims.MFAAt = jwt.NewNumericDate(g.MFAAt)
	}
	token := jwt.NewWithClaims(jwt.GetSigningMethod(signingMethod), claims)
	token.Header["kid"] = t.current.ID
	signed, err := token.SignedString(t.current.Secret)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	return signed, nil
}

// Verify parses and checks an access token and returns its subject and
// claims.
func (t *Tokens) Verify(raw string) (uuid.UUID, *Claims, error) {
	var c tokenClaims
	a, err := t.verify(raw, &c)
	if err != nil {
		return uuid.Nil, nil, err
	}
	claims := &Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: c.Issuer.String(), Subject: c.Subject.String(), Audience: c.Audience.list(), ID: c.ID.String(),
			ExpiresAt: c.ExpiresAt.date(), IssuedAt: c.IssuedAt.date(), NotBefore: c.NotBefore.date(),
		},
		Role:    c.Role.String(),
		Session: a.Session.String(),
		Version: c.Version,
		AMR:     c.AMR.list(),
		MFAAt:   c.MFAAt.date(),
	}
	return a.UserID, claims, nil
}

// Access is what the middleware needs of a token on every request: whose
// it is, the session and token version the database is asked about, and
// when a second factor was checked for it (the step-up routes read it).
type Access struct {
	UserID  uuid.UUID
	Session uuid.UUID // the refresh token family (sid)
	Version int32     // the user's token version when it was signed (sv)
	MFAAt   time.Time // zero when the token records no second factor (mfa_at)
}

// Check checks an access token as Verify does and returns only its user,
// session, version and second factor: what the middleware needs on every
// request, without building the claims nobody reads there.
func (t *Tokens) Check(raw string) (Access, error) {
	var c tokenClaims
	return t.verify(raw, &c)
}

// Subject checks an access token as Verify does and returns only its
// subject.
func (t *Tokens) Subject(raw string) (uuid.UUID, error) {
	a, err := t.Check(raw)
	return a.UserID, err
}

// verify is the whole check, in the order that refuses a forgery cheapest:
// the token's shape, the header (HS256 and a known kid, nothing else), the
// signature, and only then the claims, which are decoded into a typed
// struct (no map, no interface values): issuer, audience, expiry (required),
// issued-at and not-before (when present), each with the leeway, and a
// subject that is a user id. It is written out rather than delegated to
// golang-jwt's parser because that parser decodes the header into a map
// and costs some 70 allocations a request; the rules are the ones the
// parser was configured with before, and TestTokensVerifyAttacks and the
// fuzz targets hold this code to them.
func (t *Tokens) verify(raw string, c *tokenClaims) (Access, error) {
	// The base64 decoder skips CR and LF, so they would be a second
	// spelling of a valid token: a token is base64url and two dots, nothing
	// else (found by FuzzTokenVerify).
	if strings.ContainsFunc(raw, func(r rune) bool { return !isTokenChar(r) }) {
		return Access{}, fmt.Errorf("%w: not a compact JWS", ErrInvalidToken)
	}
	header, rest, ok1 := strings.Cut(raw, ".")
	payload, sig, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(sig, ".") {
		return Access{}, fmt.Errorf("%w: not three segments", ErrInvalidToken)
	}
	// One buffer holds the token's bytes (for the HMAC) and the decoded
	// header and claims. Strict decoding: one spelling per token, the
	// unused low bits of each segment's last character must be zero (found
	// by FuzzTokenVerify).
	enc := base64.RawURLEncoding.Strict()
	signed := len(header) + 1 + len(payload)
	buf := make([]byte, len(raw)+enc.DecodedLen(len(header))+enc.DecodedLen(len(payload)))
	copy(buf, raw)
	sigBytes := buf[signed+1 : len(raw)]
	dec := buf[len(raw):]
	n, err := enc.Decode(dec, buf[:len(header)])
	if err != nil {
		return Access{}, fmt.Errorf("%w: header encoding", ErrInvalidToken)
	}
	headerJSON, claimsBuf := dec[:n], dec[n:]
	var h tokenHeader
	if err := json.Unmarshal(headerJSON, &h); err != nil {
		return Access{}, fmt.Errorf("%w: header: %w", ErrInvalidToken, err)
	}
	// The algorithm is pinned: "alg":"none" and algorithm-swap tokens are
	// refused before any key is looked at. A missing or unknown kid fails
	// rather than falling back to some default key.
	if !h.Alg.is(signingMethod) {
		return Access{}, fmt.Errorf("%w: algorithm %q", ErrInvalidToken, h.Alg)
	}
	kid, plain := h.Kid.plain()
	if !plain {
		kid = []byte(h.Kid.String())
	}
	key, ok := t.keys[string(kid)]
	if !ok || len(kid) == 0 {
		return Access{}, fmt.Errorf("%w: unknown kid", ErrInvalidToken)
	}
	var got, want [sha256.Size]byte
	if enc.DecodedLen(len(sig)) != len(got) {
		return Access{}, fmt.Errorf("%w: signature length", ErrInvalidToken)
	}
	if n, err := enc.Decode(got[:], sigBytes); err != nil || n != len(got) {
		return Access{}, fmt.Errorf("%w: signature encoding", ErrInvalidToken)
	}
	mac, _ := key.macs.Get().(hash.Hash)
	mac.Reset()
	mac.Write(buf[:signed])
	mac.Sum(want[:0])
	key.macs.Put(mac)
	if !hmac.Equal(got[:], want[:]) {
		return Access{}, fmt.Errorf("%w: signature", ErrInvalidToken)
	}

	n, err = enc.Decode(claimsBuf, buf[len(header)+1:signed])
	if err != nil {
		return Access{}, fmt.Errorf("%w: claims encoding", ErrInvalidToken)
	}
	*c = tokenClaims{ExpiresAt: absent(), IssuedAt: absent(), NotBefore: absent(), MFAAt: absent()}
	if err := json.Unmarshal(claimsBuf[:n], c); err != nil {
		return Access{}, fmt.Errorf("%w: claims: %w", ErrInvalidToken, err)
	}
	if err := c.validate(t.issuer, t.audience, t.now()); err != nil {
		return Access{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	id, err := uuidClaim(c.Subject)
	if err != nil {
		return Access{}, fmt.Errorf("%w: subject is not a user id", ErrInvalidToken)
	}
	// A token without a session cannot be revoked by logout, so it is no
	// token of this service.
	session, err := uuidClaim(c.Session)
	if err != nil {
		return Access{}, fmt.Errorf("%w: no session", ErrInvalidToken)
	}
	a := Access{UserID: id, Session: session, Version: c.Version}
	if c.MFAAt.present() {
		a.MFAAt = c.MFAAt.time()
	}
	return a, nil
}

// uuidClaim parses a string claim as a uuid, in place when it has no
// escapes (every token this service issues).
func uuidClaim(s jsonString) (uuid.UUID, error) {
	b, plain := s.plain()
	if !plain {
		b = []byte(s.String())
	}
	return uuid.ParseBytes(b)
}

func isTokenChar(r rune) bool {
	return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
}
