//go:build workshop

package workshop

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/web"
)

// Limiter and IPExtractor switch rate limiting between the secure limiter
// and client address and two variants.
//
// Vulnerable: nothing is limited (every policy, every backoff allows). The
// attacker guesses one account's password as fast as the server answers.
//
// Naive: limits are per client IP only, with the IP read from the left of
// X-Forwarded-For, which any client writes itself; the per-account limit
// and the backoff are gone. A brute force from one address still stops at
// the auth limit, but a new X-Forwarded-For per request is a new budget.
// Secure code: internal/web/clientip.go (the TCP peer unless a trusted
// proxy is configured), internal/app/limits.go and internal/auth/handler.go
// (Login: per-account limit and backoff).
func Limiter(b *Board, secure web.Limiter) web.Limiter {
	return limiter{board: b, Limiter: secure}
}

// IPExtractor is the naive variant's client address: echo's legacy
// extractor, which believes X-Forwarded-For and X-Real-IP from anyone.
func IPExtractor(b *Board, secure echo.IPExtractor) echo.IPExtractor {
	legacy := echo.LegacyIPExtractor()
	return func(r *http.Request) string {
		if b.Get("ratelimit") == Naive {
			return legacy(r)
		}
		return secure(r)
	}
}

type limiter struct {
	board *Board
	web.Limiter
}

// off reports whether the current variant has dropped the limit by name.
func (l limiter) off(name string) bool {
	switch l.board.Get("ratelimit") {
	case Vulnerable:
		return true
	case Naive:
		return strings.HasPrefix(name, "login-") // login-account, login-backoff
	}
	return false
}

func (l limiter) Allow(ctx context.Context, key string, p web.Policy, cost int) (web.Decision, error) {
	if l.off(p.Name) {
		return web.Decision{Allowed: true, Remaining: p.Burst}, nil
	}
	return l.Limiter.Allow(ctx, key, p, cost)
}

func (l limiter) Attempt(ctx context.Context, key string, p web.BackoffPolicy) (time.Duration, error) {
	if l.off(p.Name) {
		return 0, nil
	}
	return l.Limiter.Attempt(ctx, key, p)
}
