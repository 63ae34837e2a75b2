package tests

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/bulwark-dev/bulwark/tools/attack"
)

// Rate limiting: brute force, credential stuffing and X-Forwarded-For
// tricks, with no proxy configured (docs/04-rate-limiting.md).
func TestRateLimitAttacks(t *testing.T) { runIssue(t, "ratelimit", nil) }

// Behind a trusted proxy the server believes X-Forwarded-For from it, so
// rotating the header does change the per-IP key: here the test client plays
// the proxy. The per-account limit must still stop a brute force of one
// account. (reset-by-forwarded-for does not apply: it models a client that
// is not the proxy, which the test above covers.)
func TestRateLimitAttacksBehindTrustedProxy(t *testing.T) {
	var attacks []attack.Attack
	for _, a := range attack.ByIssue("ratelimit") {
		if slices.Contains([]string{"ratelimit/brute-force-one-account", "ratelimit/rotate-forwarded-for", "ratelimit/parallel-guesses"}, a.ID) {
			attacks = append(attacks, a)
		}
	}
	runAttacks(t, attacks, map[string]string{"TRUSTED_PROXIES": "127.0.0.1/32"})
}

// The other half of the trusted-proxy rule: X-Forwarded-For from a trusted
// proxy is believed, so two clients behind it get separate per-IP budgets.
// Without this, the tests above would also pass for a server that ignores
// the header even when it should not (and limits a whole office as one).
func TestTrustedProxyForwardedForIsHonoured(t *testing.T) {
	srv := startServer(t, map[string]string{"TRUSTED_PROXIES": "127.0.0.1/32"})
	ctx := context.Background()
	login := func(clientIP string, i int) int {
		t.Helper()
		body := fmt.Sprintf(`{"email":"user%d@example.net","password":"not-the-password"}`, i)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/api/v1/auth/login", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", clientIP)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	limited := false
	for i := range 30 {
		if login("198.51.100.10", i) == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("client 198.51.100.10 was never limited")
	}
	if s := login("198.51.100.20", 99); s == http.StatusTooManyRequests {
		t.Errorf("a different client behind the trusted proxy was limited too (%d): X-Forwarded-For ignored", s)
	}
}
