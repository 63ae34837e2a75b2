// Package payments is the service's side of the payment provider
// (docs/11-third-party-data.md): it creates a payment at the provider for a
// pending order, and it takes the provider's webhook, which is the only
// way an order becomes paid. Everything the provider sends is third-party
// data: the webhook is believed only with a fresh signature over its exact
// bytes, acted on once per event, and only when it pays exactly what the
// order costs.
package payments

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bulwark-dev/bulwark/internal/web"
)

// SignatureHeader carries the provider's signature: "t=<unix seconds>,
// v1=<hex HMAC-SHA256>", with one v1 per secret while the provider rotates.
const SignatureHeader = "Bulwark-Signature"

// Tolerance is how far a webhook's timestamp may be from now. A captured
// event replayed later is refused even if its id were forgotten.
const Tolerance = 5 * time.Minute

// ErrSignature is the answer for a missing, malformed, wrong or stale
// signature alike.
const ErrSignature = web.Unauthorized("The webhook signature is missing, invalid or expired.")

// maxSignatureHeader bounds the header parsed; maxSignatures bounds the v1
// values tried, so a header cannot buy unbounded HMAC work.
const (
	maxSignatureHeader = 1024
	maxSignatures      = 4
)

// Verifier checks webhook signatures against every current secret.
type Verifier struct {
	secrets   [][]byte
	tolerance time.Duration
	now       func() time.Time
}

// NewVerifier accepts a signature made with any of secrets: two are valid
// at once while the provider rotates (PAYMENT_WEBHOOK_SECRETS).
func NewVerifier(secrets [][]byte) *Verifier {
	return &Verifier{secrets: secrets, tolerance: Tolerance, now: time.Now}
}

// Sign is the provider's side: the header value for body at time t. The
// fake provider (tools/fakepay) has its own copy; this one is for tests.
func Sign(secret []byte, t time.Time, body []byte) string {
	return fmt.Sprintf("t=%d,v1=%s", t.Unix(), hex.EncodeToString(mac(secret, strconv.FormatInt(t.Unix(), 10), body)))
}

// mac is HMAC-SHA256 over "<timestamp>.<raw body>": the timestamp is
// signed with the body, so it cannot be moved to make an old event fresh.
func mac(secret []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks header against the raw body: the bytes as received, never
// a re-encoding of what was parsed, which could differ from what was
// signed.
func (v *Verifier) Verify(header string, body []byte) error {
	timestamp, sigs, err := parseSignature(header)
	if err != nil {
		return fmt.Errorf("%w: %w", err, ErrSignature)
	}
	if !v.matches(timestamp, sigs, body) {
		return fmt.Errorf("no signature matches a current secret: %w", ErrSignature)
	}
	sec, _ := strconv.ParseInt(timestamp, 10, 64)
	if age := v.now().Sub(time.Unix(sec, 0)); age > v.tolerance || age < -v.tolerance {
		return fmt.Errorf("timestamp %s is %s from now, outside %s: %w", timestamp, age.Round(time.Second), v.tolerance, ErrSignature)
	}
	return nil
}

// matches compares in constant time, every candidate against every
// secret, so the time taken says nothing about which byte was wrong.
func (v *Verifier) matches(timestamp string, sigs [][]byte, body []byte) bool {
	ok := false
	for _, secret := range v.secrets {
		want := mac(secret, timestamp, body)
		for _, sig := range sigs {
			if hmac.Equal(sig, want) {
				ok = true
			}
		}
	}
	return ok
}

// parseSignature reads "t=<digits>,v1=<64 hex>[,v1=…]"; other schemes
// (v0, …) are ignored, as providers add them over time.
func parseSignature(header string) (string, [][]byte, error) {
	if header == "" || len(header) > maxSignatureHeader {
		return "", nil, errors.New("no usable signature header")
	}
	var (
		timestamp string
		sigs      [][]byte
	)
	for part := range strings.SplitSeq(header, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return "", nil, errors.New("malformed signature header")
		}
		switch k {
		case "t":
			if timestamp != "" || !digits(val, 12) {
				return "", nil, errors.New("malformed signature timestamp")
			}
			timestamp = val
		case "v1":
			sig, err := hex.DecodeString(val)
			if err != nil || len(sig) != sha256.Size {
				return "", nil, errors.New("malformed v1 signature")
			}
			if len(sigs) == maxSignatures {
				return "", nil, errors.New("too many signatures")
			}
			sigs = append(sigs, sig)
		}
	}
	if timestamp == "" || len(sigs) == 0 {
		return "", nil, errors.New("signature header lacks t or v1")
	}
	return timestamp, sigs, nil
}

func digits(s string, maxLen int) bool {
	if s == "" || len(s) > maxLen {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
