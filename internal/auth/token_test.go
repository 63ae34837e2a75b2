package auth_test

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/bulwark-dev/bulwark/internal/auth"
	"github.com/bulwark-dev/bulwark/internal/config"
)

const (
	testIssuer   = "bulwark"
	testAudience = "bulwark-api"
)

func randomKey(t *testing.T, kid string) config.SigningKey {
	t.Helper()
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	return config.SigningKey{ID: kid, Secret: secret}
}

func newTokens(t *testing.T, keys ...config.SigningKey) *auth.Tokens {
	t.Helper()
	tk, err := auth.NewTokens(keys, testIssuer, testAudience, 10*time.Minute)
	if err != nil {
		t.Fatalf("NewTokens: %v", err)
	}
	return tk
}

// validClaims are the claims Issue would write; attack cases change one.
func validClaims(sub uuid.UUID) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss":  testIssuer,
		"sub":  sub.String(),
		"aud":  []string{testAudience},
		"iat":  now.Unix(),
		"nbf":  now.Unix(),
		"exp":  now.Add(5 * time.Minute).Unix(),
		"jti":  uuid.NewString(),
		"role": "user",
		"sid":  uuid.NewString(),
	}
}

// signWith signs claims with golang-jwt, setting kid unless it is "".
func signWith(t *testing.T, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	token := jwt.NewWithClaims(method, claims)
	if kid != "" {
		token.Header["kid"] = kid
	}
	s, err := token.SignedString(key)
	if err != nil {
		t.Fatalf("sign %s: %v", method.Alg(), err)
	}
	return s
}

// handmade builds a token byte by byte, the way an attacker would: any
// header, any claims, and an HMAC-SHA256 "signature" under hmacKey (or no
// signature at all when hmacKey is nil).
func handmade(t *testing.T, header map[string]any, claims jwt.MapClaims, hmacKey []byte) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signingInput := enc(header) + "." + enc(claims)
	if hmacKey == nil {
		return signingInput + "."
	}
	mac := hmac.New(sha256.New, hmacKey)
	mac.Write([]byte(signingInput))
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func with(claims jwt.MapClaims, change func(jwt.MapClaims)) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range claims {
		out[k] = v
	}
	change(out)
	return out
}

func TestTokensIssueVerifyRoundTrip(t *testing.T) {
	key := randomKey(t, "k1")
	tk := newTokens(t, key)
	user := uuid.New()

	raw, err := tk.Issue(auth.Grant{UserID: user, Role: "admin", Session: uuid.New()})
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	id, claims, err := tk.Verify(raw)
	if err != nil {
		t.Fatalf("Verify(freshly issued token): %v", err)
	}
	if id != user {
		t.Errorf("Verify subject = %v, want %v", id, user)
	}
	type summary struct {
		Issuer, Subject, Role string
		Audience              []string
		Lifetime              time.Duration
		HasID                 bool
	}
	got := summary{
		Issuer: claims.Issuer, Subject: claims.Subject, Role: claims.Role, Audience: claims.Audience,
		Lifetime: claims.ExpiresAt.Sub(claims.IssuedAt.Time), HasID: claims.ID != "",
	}
	want := summary{Issuer: testIssuer, Subject: user.String(), Role: "admin", Audience: []string{testAudience}, Lifetime: 10 * time.Minute, HasID: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}
	if tk.TTL() != 10*time.Minute {
		t.Errorf("TTL() = %v", tk.TTL())
	}
}

func TestNewTokensRefusesEmptyRing(t *testing.T) {
	if _, err := auth.NewTokens(nil, testIssuer, testAudience, time.Minute); err == nil {
		t.Error("NewTokens(no keys) succeeded, want an error")
	}
}

func TestTokensVerifyAttacks(t *testing.T) {
	key := randomKey(t, "k1")
	other := randomKey(t, "k1") // same kid, different secret
	tk := newTokens(t, key)
	user := uuid.New()
	claims := validClaims(user)
	hs256 := map[string]any{"alg": "HS256", "typ": "JWT", "kid": key.ID}

	// Sanity: the two ways of building tokens make tokens Verify accepts, so
	// each rejection below is caused by the one thing the case changes.
	for name, raw := range map[string]string{
		"golang-jwt": signWith(t, jwt.SigningMethodHS256, key.Secret, key.ID, claims),
		"handmade":   handmade(t, hs256, claims, key.Secret),
		"expired within leeway": signWith(t, jwt.SigningMethodHS256, key.Secret, key.ID,
			with(claims, func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-10 * time.Second).Unix() })),
		"iat slightly ahead (clock skew)": signWith(t, jwt.SigningMethodHS256, key.Secret, key.ID,
			with(claims, func(c jwt.MapClaims) { c["iat"] = time.Now().Add(10 * time.Second).Unix() })),
	} {
		t.Run("accepts "+name, func(t *testing.T) {
			id, _, err := tk.Verify(raw)
			if err != nil || id != user {
				t.Fatalf("Verify = %v, %v; want %v, nil", id, err, user)
			}
		})
	}

	tampered := func() string {
		raw, err := tk.Issue(auth.Grant{UserID: user, Role: "user", Session: uuid.New()})
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(raw, ".")
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		forged := strings.Replace(string(payload), `"role":"user"`, `"role":"admin"`, 1)
		if forged == string(payload) {
			t.Fatalf("payload %s has no role to tamper with", payload)
		}
		parts[1] = base64.RawURLEncoding.EncodeToString([]byte(forged))
		return strings.Join(parts, ".")
	}()

	// Second spellings of a valid token: the same signature bytes written
	// differently. Regression (FuzzTokenVerify, testdata/fuzz/
	// FuzzTokenVerify/3f27e53e1754c183): the base64 decoder skips CR and
	// LF, and without strict decoding ignores the unused low bits of the
	// signature's last character.
	valid, err := tk.Issue(auth.Grant{UserID: user, Role: "user", Session: uuid.New()})
	if err != nil {
		t.Fatal(err)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	lastBits := valid[:len(valid)-1] + string(alphabet[strings.IndexByte(alphabet, valid[len(valid)-1])^1])

	tests := []struct {
		name string
		raw  string
	}{
		{name: "trailing CR", raw: valid + "\r"},
		{name: "LF inside the signature", raw: valid[:len(valid)-5] + "\n" + valid[len(valid)-5:]},
		{name: "signature with other unused bits", raw: lastBits},
		{name: "alg none", raw: handmade(t, map[string]any{"alg": "none", "typ": "JWT", "kid": key.ID}, claims, nil)},
		{name: "alg None", raw: handmade(t, map[string]any{"alg": "None", "typ": "JWT", "kid": key.ID}, claims, nil)},
		{name: "alg none with signature", raw: handmade(t, map[string]any{"alg": "none", "kid": key.ID}, claims, key.Secret)},
		{name: "HS512 with the right key", raw: signWith(t, jwt.SigningMethodHS512, key.Secret, key.ID, claims)},
		{name: "HS384 with the right key", raw: signWith(t, jwt.SigningMethodHS384, key.Secret, key.ID, claims)},
		{name: "RS256 label over an HMAC signature", raw: handmade(t, map[string]any{"alg": "RS256", "typ": "JWT", "kid": key.ID}, claims, key.Secret)},
		{name: "missing alg", raw: handmade(t, map[string]any{"typ": "JWT", "kid": key.ID}, claims, key.Secret)},
		{name: "unknown kid", raw: signWith(t, jwt.SigningMethodHS256, key.Secret, "k2", claims)},
		{name: "missing kid", raw: signWith(t, jwt.SigningMethodHS256, key.Secret, "", claims)},
		{name: "kid not a string", raw: handmade(t, map[string]any{"alg": "HS256", "kid": 1}, claims, key.Secret)},
		{name: "other key under the same kid", raw: signWith(t, jwt.SigningMethodHS256, other.Secret, key.ID, claims)},
		{name: "expired beyond leeway", raw: signWith(t, jwt.SigningMethodHS256, key.Secret, key.ID,
			with(claims, func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() }))},
		{name: "missing exp", raw: signWith(t, jwt.SigningMethodHS256, key.Secret, key.ID,
			with(claims, func(c jwt.MapClaims) { delete(c, "exp") }))},
		{name: "exp not a number", raw: signWith(t, jwt.SigningMethodHS256, key.Secret, key.ID,
			with(claims, func(c jwt.MapClaims) { c["exp"] = "tomorrow" }))},
		{name: "wrong audience", raw: signWith(t, jwt.SigningMethodHS256, key.Secret, key.ID,
			with(claims, func(c jwt.MapClaims) { c["aud"] = []string{"other-api"} }))},
		{name: "missing audience", raw: signWith(t, jwt.SigningMethodHS256, key.Secret, key.ID,
			with(claims, func(c jwt.MapClaims) { delete(c, "aud") }))},
		{name: "wrong issuer", raw: signWith(t, jwt.SigningMethodHS256, key.Secret, key.ID,
			with(claims, func(c jwt.MapClaims) { c["iss"] = "evil" }))},
		{name: "missing issuer", raw: signWith(t, jwt.SigningMethodHS256, key.Secret, key.ID,
			with(claims, func(c jwt.MapClaims) { delete(c, "iss") }))},
		{name: "iat in the future beyond leeway", raw: signWith(t, jwt.SigningMethodHS256, key.Secret, key.ID,
			with(claims, func(c jwt.MapClaims) { c["iat"] = time.Now().Add(5 * time.Minute).Unix() }))},
		{name: "nbf in the future beyond leeway", raw: signWith(t, jwt.SigningMethodHS256, key.Secret, key.ID,
			with(claims, func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(5 * time.Minute).Unix() }))},
		{name: "subject not a UUID", raw: signWith(t, jwt.SigningMethodHS256, key.Secret, key.ID,
			with(claims, func(c jwt.MapClaims) { c["sub"] = "admin" }))},
		{name: "missing subject", raw: signWith(t, jwt.SigningMethodHS256, key.Secret, key.ID,
			with(claims, func(c jwt.MapClaims) { delete(c, "sub") }))},
		{name: "role changed in payload", raw: tampered},
		{name: "signature stripped", raw: tampered[:strings.LastIndex(tampered, ".")+1]},
		{name: "empty", raw: ""},
		{name: "garbage", raw: "not.a.jwt"},
	}
	for _, tt := range tests {
		t.Run("rejects "+tt.name, func(t *testing.T) {
			id, got, err := tk.Verify(tt.raw)
			if !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("Verify error = %v, want ErrInvalidToken", err)
			}
			if id != uuid.Nil || got != nil {
				t.Errorf("Verify returned id %v and claims %+v alongside the error", id, got)
			}
		})
	}
}

func TestTokensKeyRotation(t *testing.T) {
	oldKey, newKey := randomKey(t, "2025-01"), randomKey(t, "2025-06")
	user := uuid.New()

	beforeRotation := newTokens(t, oldKey)
	oldToken, err := beforeRotation.Issue(auth.Grant{UserID: user, Role: "user", Session: uuid.New()})
	if err != nil {
		t.Fatal(err)
	}

	ring := newTokens(t, newKey, oldKey)
	if id, _, err := ring.Verify(oldToken); err != nil || id != user {
		t.Errorf("token from the retired key: Verify = %v, %v; want %v, nil", id, err, user)
	}

	newToken, err := ring.Issue(auth.Grant{UserID: user, Role: "user", Session: uuid.New()})
	if err != nil {
		t.Fatal(err)
	}
	if kid := kidOf(t, newToken); kid != newKey.ID {
		t.Errorf("new token kid = %q, want the first key %q", kid, newKey.ID)
	}
	if _, _, err := beforeRotation.Verify(newToken); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("new-key token verified by a service that only knows the old key: err = %v", err)
	}

	// Once the old key is dropped from the ring, its tokens stop working.
	afterRetirement := newTokens(t, newKey)
	if _, _, err := afterRetirement.Verify(oldToken); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("token from a removed key: err = %v, want ErrInvalidToken", err)
	}
}

func kidOf(t *testing.T, raw string) string {
	t.Helper()
	header, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(header)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	if h.Alg != "HS256" {
		t.Errorf("token alg = %q, want HS256", h.Alg)
	}
	return h.Kid
}
