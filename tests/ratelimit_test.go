package tests

import (
	"slices"
	"testing"

	"github.com/bulwark-dev/bulwark/internal/attack"
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
		if slices.Contains([]string{"ratelimit/brute-force-one-account", "ratelimit/rotate-forwarded-for"}, a.ID) {
			attacks = append(attacks, a)
		}
	}
	runAttacks(t, attacks, map[string]string{"TRUSTED_PROXIES": "127.0.0.1/32"})
}
