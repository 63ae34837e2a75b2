package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// tokenHeader is the part of a token's header the check reads. A kid that
// is not a string fails to decode, and so fails the check.
type tokenHeader struct {
	Alg jsonString `json:"alg"`
	Kid jsonString `json:"kid"`
}

// tokenClaims are the claims as the check decodes them: typed fields, so
// that decoding a token builds no map and no interface values, and string
// claims stay in the token's buffer until someone asks for them.
type tokenClaims struct {
	Issuer    jsonString  `json:"iss"`
	Subject   jsonString  `json:"sub"`
	Audience  audience    `json:"aud"`
	ExpiresAt numericDate `json:"exp"`
	IssuedAt  numericDate `json:"iat"`
	NotBefore numericDate `json:"nbf"`
	ID        jsonString  `json:"jti"`
	Role      jsonString  `json:"role"`
	Session   jsonString  `json:"sid"` // a uuid, required (verify)
	Version   int32       `json:"sv"`
	// amr is a list of strings like aud, kept raw the same way: only
	// Verify's callers decode it. mfa_at is read on every request
	// (RequireRecentMFA), and a number costs no allocation.
	AMR   audience    `json:"amr"`
	MFAAt numericDate `json:"mfa_at"`
}

// jsonString is a JSON string claim, kept as its raw JSON (quotes and
// escapes included) in the decoder's input, the token's own buffer. Any
// other JSON type fails to decode, as a string field of golang-jwt's
// claims does; null leaves it empty, as it would a string.
type jsonString []byte

func (s *jsonString) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*s = nil
		return nil
	}
	if len(b) < 2 || b[0] != '"' {
		return errors.New("claim is not a string")
	}
	*s = b
	return nil
}

// plain is the string's contents when it has no escapes, which is how
// every token this service issues is written.
func (s jsonString) plain() ([]byte, bool) {
	if len(s) == 0 {
		return nil, true
	}
	inner := s[1 : len(s)-1]
	return inner, bytes.IndexByte(inner, '\\') < 0
}

// String decodes the claim (the input was validated as JSON already).
func (s jsonString) String() string {
	if inner, ok := s.plain(); ok {
		return string(inner)
	}
	var out string
	if err := json.Unmarshal(s, &out); err != nil {
		return ""
	}
	return out
}

// is compares without allocating when the claim has no escapes.
func (s jsonString) is(want string) bool {
	if inner, ok := s.plain(); ok {
		return string(inner) == want
	}
	return s.String() == want
}

// numericDate is a JWT time (RFC 7519 §2: seconds since the epoch, possibly
// fractional). A claim that is absent or null stays NaN; a string or any
// other type fails to decode, as golang-jwt's NumericDate does.
type numericDate float64

func absent() numericDate { return numericDate(math.NaN()) }

func (d numericDate) present() bool { return !math.IsNaN(float64(d)) }

// time converts as golang-jwt does: whole seconds, the fraction dropped.
func (d numericDate) time() time.Time {
	sec, frac := math.Modf(float64(d))
	return time.Unix(int64(sec), int64(frac*1e9)).Truncate(time.Second)
}

func (d numericDate) date() *jwt.NumericDate {
	if !d.present() {
		return nil
	}
	return jwt.NewNumericDate(d.time())
}

// audience is the aud claim, a string or an array of strings (RFC 7519
// §4.1.3). It keeps the raw JSON and is matched without decoding it into
// a slice; the slice is built only for Verify's callers.
type audience struct {
	raw []byte
}

func (a *audience) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		a.raw = nil
		return nil
	}
	if len(b) == 0 || (b[0] != '"' && b[0] != '[') {
		return errors.New("aud is neither a string nor an array")
	}
	// b aliases the decoder's input, the token's own buffer, which lives
	// as long as the claims.
	a.raw = b
	return nil
}

// contains reports whether want is the audience or one of them. Element
// types are checked: an array with a non-string fails, as golang-jwt's
// ClaimStrings does.
func (a audience) contains(want string) (bool, error) {
	if len(a.raw) == 0 {
		return false, nil
	}
	if a.raw[0] == '"' {
		return jsonString(a.raw).is(want), nil
	}
	// The usual array, ["want"], is recognised without decoding it.
	if len(a.raw) == len(want)+4 && a.raw[1] == '"' && a.raw[len(a.raw)-1] == ']' &&
		jsonString(a.raw[1:len(a.raw)-1]).is(want) {
		return true, nil
	}
	var list []string
	if err := json.Unmarshal(a.raw, &list); err != nil {
		return false, err
	}
	for _, s := range list {
		if s == want {
			return true, nil
		}
	}
	return false, nil
}

func (a audience) list() jwt.ClaimStrings {
	if len(a.raw) == 0 {
		return nil
	}
	var out jwt.ClaimStrings
	if err := json.Unmarshal(a.raw, &out); err != nil {
		return nil
	}
	return out
}

// validate applies the rules golang-jwt's parser was configured with:
// WithIssuer, WithAudience, WithExpirationRequired, WithIssuedAt and
// WithLeeway(leeway); nbf is checked whenever present.
func (c *tokenClaims) validate(issuer, aud string, now time.Time) error {
	if !c.ExpiresAt.present() {
		return errors.New("token has no expiry")
	}
	if !now.Before(c.ExpiresAt.time().Add(leeway)) {
		return errors.New("token is expired")
	}
	if c.IssuedAt.present() && now.Add(leeway).Before(c.IssuedAt.time()) {
		return errors.New("token used before issued")
	}
	if c.NotBefore.present() && now.Add(leeway).Before(c.NotBefore.time()) {
		return errors.New("token is not valid yet")
	}
	if len(c.Issuer) == 0 || !c.Issuer.is(issuer) {
		return errors.New("token has the wrong issuer")
	}
	ok, err := c.Audience.contains(aud)
	if err != nil {
		return errors.New("token audience is malformed")
	}
	if !ok {
		return errors.New("token has the wrong audience")
	}
	return nil
}
