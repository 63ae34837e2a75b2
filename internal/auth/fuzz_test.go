package auth

// Fuzz targets for the user DTOs behind the strict binder and for the
// access-token parser. Each asserts the promise the code makes, not just
// "no panic". Run one with
//
//	go test -run '^$' -fuzz '^FuzzTokenClaims$' -fuzztime 60s ./internal/auth
//
// or all of them briefly with `make fuzz`. The seeds are the attack
// catalogue's own payloads (tools/attack/payloads.go).

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/bulwark-dev/bulwark/internal/config"
	"github.com/bulwark-dev/bulwark/internal/web/webtest"
	"github.com/bulwark-dev/bulwark/tools/attack"
)

// FuzzBindUserRequests: register and PATCH /users/me accept exactly their
// fields (never a role, id or token version, in any casing), and every
// accepted string obeys its rule.
func FuzzBindUserRequests(f *testing.F) {
	for _, b := range attack.PatchMeBodies() {
		f.Add([]byte(b))
	}
	f.Add([]byte(attack.RegisterBody("mallory@example.com")))
	f.Add([]byte(`{"email":"a@example.com","password":"correct-horse-battery","name":"Alice"}`))
	f.Add([]byte(`{"name":"Alice"}`))
	f.Add([]byte(`{"email":"a@example.com","password":"x"}`))
	f.Add([]byte(`{"refresh_token":"r"}`))
	for _, v := range attack.SQLInjectionValues() {
		for _, b := range []map[string]string{{"name": v}, {"email": v, "password": v}} {
			body, err := json.Marshal(b)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(body)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, name := range webtest.MemberNames(body) {
			switch strings.ToLower(name) {
			case "role", "id", "token_version", "password_hash", "created_at":
				// Checked below for each DTO: such a body must be refused.
			default:
				continue
			}
			if _, ok := webtest.CheckStrictBind[updateMeRequest](t, body); ok {
				t.Fatalf("PATCH /users/me accepted %q", body)
			}
			if _, ok := webtest.CheckStrictBind[registerRequest](t, body); ok {
				t.Fatalf("register accepted %q", body)
			}
			return
		}
		if me, ok := webtest.CheckStrictBind[updateMeRequest](t, body); ok {
			checkSafeText(t, "name", me.Name, 100)
		}
		if reg, ok := webtest.CheckStrictBind[registerRequest](t, body); ok {
			checkSafeText(t, "name", reg.Name, 100)
			if n := len([]rune(reg.Password)); n < 12 || n > 128 {
				t.Fatalf("a password of %d characters passed", n)
			}
			if !strings.Contains(reg.Email, "@") || len([]rune(reg.Email)) > 254 {
				t.Fatalf("email %q passed", reg.Email)
			}
		}
		if login, ok := webtest.CheckStrictBind[loginRequest](t, body); ok {
			// A NUL here once reached PostgreSQL and answered 500.
			checkSafeText(t, "email", login.Email, 254)
			if len([]rune(login.Password)) > 128 {
				t.Fatal("a password over 128 characters passed: it bounds the hashing work")
			}
		}
		if r, ok := webtest.CheckStrictBind[refreshRequest](t, body); ok && (r.RefreshToken == "" || len([]rune(r.RefreshToken)) > 128) {
			t.Fatalf("refresh token %q passed", r.RefreshToken)
		}
	})
}

func checkSafeText(t *testing.T, field, s string, maxRunes int) {
	t.Helper()
	if s == "" || len([]rune(s)) > maxRunes || strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
	}) {
		t.Fatalf("%s %q passed", field, s)
	}
}

const (
	fuzzIssuer   = "bulwark"
	fuzzAudience = "bulwark-api"
)

// fuzzSecrets: k1 and k2 are in the ring; "stranger" is a secret the
// service never had.
func fuzzSecrets() map[string][]byte {
	return map[string][]byte{
		"k1":       []byte("fuzz-token-secret-one-0123456789ab"),
		"k2":       []byte("fuzz-token-secret-two-0123456789ab"),
		"stranger": []byte("fuzz-token-secret-not-in-the-ring!"),
	}
}

func fuzzTokens(t testing.TB) *Tokens {
	s := fuzzSecrets()
	tk, err := NewTokens([]config.SigningKey{{ID: "k1", Secret: s["k1"]}, {ID: "k2", Secret: s["k2"]}}, fuzzIssuer, fuzzAudience, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// hs256 builds a token byte by byte, as an attacker would: any header, any
// claims, and an HMAC-SHA256 under secret (no signature when secret is nil).
func hs256(header, claims map[string]any, secret []byte) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(header) + "." + enc(claims)
	if secret == nil {
		return input + "."
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// FuzzTokenClaims: a token is accepted if and only if it is HS256, signed
// by the key its kid names in the ring, for our issuer and audience, with
// an expiry that has not passed, not issued or valid-from in the future
// (30 s leeway each), and its subject is a user id. The oracle below is
// written from that sentence, not from the code.
func FuzzTokenClaims(f *testing.F) {
	f.Add("HS256", "k1", uint8(0), fuzzIssuer, fuzzAudience, uuid.NewString(), int64(300), int64(0), int64(0), uint8(7))
	f.Add("none", "k1", uint8(3), fuzzIssuer, fuzzAudience, uuid.NewString(), int64(300), int64(0), int64(0), uint8(1))
	f.Add("HS512", "k2", uint8(1), fuzzIssuer, fuzzAudience, uuid.NewString(), int64(300), int64(0), int64(0), uint8(1))
	f.Add("RS256", "k1", uint8(0), fuzzIssuer, "billing-service", uuid.NewString(), int64(-3600), int64(60), int64(0), uint8(15))
	f.Add("HS256", "k2", uint8(2), "evil", fuzzAudience, "not-a-uuid", int64(100), int64(-10), int64(40), uint8(6))
	f.Add("hs256", "", uint8(0), fuzzIssuer, fuzzAudience, uuid.Nil.String(), int64(0), int64(0), int64(0), uint8(0))
	secrets := fuzzSecrets()
	tk := fuzzTokens(f)
	f.Fuzz(func(t *testing.T, alg, kid string, signer uint8, iss, aud, sub string, exp, iat, nbf int64, present uint8) {
		// Times are relative to now, in seconds; inputs within 3 s of a
		// leeway boundary are skipped, since the clock moves while the
		// target runs.
		exp, iat, nbf = exp%1_000_000, iat%1_000_000, nbf%1_000_000
		near := func(v, edge int64) bool { return v >= edge-3 && v <= edge+3 }
		if near(exp, -30) || near(iat, 30) || near(nbf, 30) {
			return
		}
		now := time.Now().Unix()
		claims := map[string]any{"iss": iss, "sub": sub, "role": "admin", "sid": "5e55e55e-0000-4000-8000-000000000001"}
		if present&8 != 0 {
			claims["aud"] = []string{aud}
		} else {
			claims["aud"] = aud
		}
		if present&1 != 0 {
			claims["exp"] = now + exp
		}
		if present&2 != 0 {
			claims["iat"] = now + iat
		}
		if present&4 != 0 {
			claims["nbf"] = now + nbf
		}
		signerID := []string{"k1", "k2", "stranger", ""}[int(signer)%4]
		raw := hs256(map[string]any{"alg": alg, "typ": "JWT", "kid": kid}, claims, secrets[signerID])

		_, subErr := uuid.Parse(sub)
		want := alg == "HS256" && signerID != "" && signerID != "stranger" && kid == signerID &&
			iss == fuzzIssuer && aud == fuzzAudience &&
			present&1 != 0 && exp > -30 &&
			(present&2 == 0 || iat < 30) && (present&4 == 0 || nbf < 30) &&
			subErr == nil
		id, got, err := tk.Verify(raw)
		if want != (err == nil) {
			t.Fatalf("Verify(alg %q, kid %q signed by %q, iss %q, aud %q, sub %q, exp %+d, iat %+d, nbf %+d, present %04b) = %v, want accepted=%v",
				alg, kid, signerID, iss, aud, sub, exp, iat, nbf, present&15, err, want)
		}
		if err == nil && id != uuid.MustParse(got.Subject) {
			t.Fatalf("subject %q returned as %s", got.Subject, id)
		}
	})
}

// FuzzTokenVerify: whatever string arrives as a bearer token, it is
// accepted only if it is, byte for byte, a token signed with a key of the
// ring: the signature segment is the canonical encoding of the HMAC of the
// first two segments under the key the header names. Any change to an
// issued token, one byte, a cut or an addition, gets it refused.
func FuzzTokenVerify(f *testing.F) {
	tk := fuzzTokens(f)
	issued, err := tk.Issue(Grant{UserID: uuid.MustParse("a11ce000-0000-4000-8000-000000000001"), Role: "user", Session: uuid.New()})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(issued, uint16(0), byte('A'), "")
	f.Add(issued, uint16(len(issued)-1), byte('B'), "")
	f.Add(issued, uint16(len(issued)/2), byte('.'), ".")
	f.Add(issued, uint16(10), byte('='), "=")
	for _, v := range attack.SQLInjectionValues() {
		f.Add(v, uint16(len(v)), v[0], v)
	}
	secrets := fuzzSecrets()
	f.Fuzz(func(t *testing.T, raw string, pos uint16, b byte, tail string) {
		checkAccepted := func(raw string) bool {
			t.Helper()
			if _, _, err := tk.Verify(raw); err != nil {
				return false
			}
			parts := strings.Split(raw, ".")
			if len(parts) != 3 {
				t.Fatalf("accepted %q: not three segments", raw)
			}
			headerJSON, err := base64.RawURLEncoding.Strict().DecodeString(parts[0])
			var header struct {
				Alg string `json:"alg"`
				Kid string `json:"kid"`
			}
			if err != nil || json.Unmarshal(headerJSON, &header) != nil {
				t.Fatalf("accepted %q: header is not canonical base64url JSON (%v)", raw, err)
			}
			secret, ok := secrets[header.Kid]
			if header.Alg != "HS256" || !ok || header.Kid == "stranger" {
				t.Fatalf("accepted %q: alg %q, kid %q", raw, header.Alg, header.Kid)
			}
			m := hmac.New(sha256.New, secret)
			m.Write([]byte(parts[0] + "." + parts[1]))
			if want := base64.RawURLEncoding.EncodeToString(m.Sum(nil)); parts[2] != want {
				t.Fatalf("accepted %q: signature segment %q is not the key's %q", raw, parts[2], want)
			}
			return true
		}
		checkAccepted(raw)
		if !checkAccepted(issued) {
			t.Fatal("the issued token is refused")
		}
		bs := []byte(issued)
		i := int(pos) % len(bs)
		bs[i] = b
		for _, forged := range []string{string(bs), issued[:i], issued + tail, issued[:i] + tail + issued[i:]} {
			if forged != issued && checkAccepted(forged) {
				t.Fatalf("a changed token is accepted: %q (issued %q)", forged, issued)
			}
		}
	})
}
