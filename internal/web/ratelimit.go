package web

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/web/secevent"
)

// Policy is one rate limit: Burst requests at once, refilled at Burst per
// Period. Name shows up in the RateLimit-Policy header.
type Policy struct {
	Name   string
	Burst  int
	Period time.Duration
	// FailClosed refuses requests (503) when the shared limiter is down,
	// instead of falling back to per-instance limits (ResilientLimiter).
	FailClosed bool
}

// Interval is the time one request's worth of allowance takes to refill.
func (p Policy) Interval() time.Duration { return p.Period / time.Duration(p.Burst) }

// Decision is a limiter's answer for one request.
type Decision struct {
	Allowed    bool
	Remaining  int
	RetryAfter time.Duration // when Allowed is false: when one request will fit
	ResetAfter time.Duration // when the full burst is available again
}

// Limiter decides whether the holder of key may spend cost requests under
// policy p. Cost 0 asks whether one request would fit without spending it;
// a negative cost gives allowance back, for limits that should count only
// failures: spend before the attempt (atomic, so concurrent guesses cannot
// all slip through), refund when it succeeded. The in-memory limiter serves
// one instance; several instances need a shared store
// (docs/04-rate-limiting.md), behind this same interface.
type Limiter interface {
	Allow(ctx context.Context, key string, p Policy, cost int) (Decision, error)
	Backoff
}

// MemoryLimiter is a GCRA (generic cell rate algorithm) limiter in process
// memory. GCRA stores one timestamp per key, the theoretical arrival time
// (TAT) of the next request, instead of a counter and a window, so it has no
// window edge where twice the limit gets through.
type MemoryLimiter struct {
	now       func() time.Time
	mu        sync.Mutex
	tat       map[string]time.Time
	backoff   map[string]backoffState
	nextSweep time.Time
}

// NewMemoryLimiter returns an empty limiter.
func NewMemoryLimiter() *MemoryLimiter {
	return &MemoryLimiter{now: time.Now, tat: make(map[string]time.Time), backoff: make(map[string]backoffState)}
}

// Allow implements Limiter.
func (m *MemoryLimiter) Allow(_ context.Context, key string, p Policy, cost int) (Decision, error) {
	if p.Burst < 1 || p.Period <= 0 {
		return Decision{}, fmt.Errorf("rate limit policy %q is invalid", p.Name)
	}
	interval := p.Interval()
	burstWidth := interval * time.Duration(p.Burst)
	key = p.Name + "|" + key

	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.sweep(now)

	tat := m.tat[key]
	if tat.Before(now) {
		tat = now
	}
	if cost < 0 {
		refunded := tat.Add(interval * time.Duration(cost))
		if refunded.Before(now) {
			refunded = now
		}
		m.tat[key] = refunded
		return Decision{Allowed: true, Remaining: int(now.Sub(refunded.Add(-burstWidth)) / interval), ResetAfter: refunded.Sub(now)}, nil
	}
	// A peek (cost 0) asks whether one more request would fit.
	newTAT := tat.Add(interval * time.Duration(max(cost, 1)))
	// The request fits if, after it, the backlog is no longer than a burst.
	allowAt := newTAT.Add(-burstWidth)
	if now.Before(allowAt) {
		return Decision{
			Allowed:    false,
			Remaining:  0,
			RetryAfter: allowAt.Sub(now),
			ResetAfter: tat.Sub(now),
		}, nil
	}
	if cost > 0 {
		m.tat[key] = newTAT
	}
	if cost == 0 {
		newTAT = tat
	}
	return Decision{
		Allowed:    true,
		Remaining:  int(now.Sub(newTAT.Add(-burstWidth)) / interval),
		ResetAfter: newTAT.Sub(now),
	}, nil
}

// Clear forgets every allowance and backoff, as after a restart.
func (m *MemoryLimiter) Clear() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.tat)
	clear(m.backoff)
}

// sweep drops keys whose allowance is fully refilled, so memory follows the
// number of recently active clients, not every client ever seen.
func (m *MemoryLimiter) sweep(now time.Time) {
	if now.Before(m.nextSweep) {
		return
	}
	for k, t := range m.tat {
		if t.Before(now) {
			delete(m.tat, k)
		}
	}
	for k, s := range m.backoff {
		if now.After(s.forget) {
			delete(m.backoff, k)
		}
	}
	m.nextSweep = now.Add(time.Minute)
}

// KeyFunc picks the identity a limit counts against.
type KeyFunc func(c *echo.Context) string

// ByIP keys on the client address (or its /64 for IPv6).
func ByIP(c *echo.Context) string { return IPKey(c.RealIP()) }

// RateLimit applies policy p to every request, keyed by key. It sets the
// IETF RateLimit and RateLimit-Policy headers on every response so that
// well-behaved clients can slow down before they are refused.
func RateLimit(l Limiter, p Policy, key KeyFunc) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			if err := Check(c, l, p, key(c), 1); err != nil {
				return err
			}
			return next(c)
		}
	}
}

// Check spends cost from the key's allowance, writes the headers and returns
// a *TooManyRequests when the limit is reached. Handlers use it directly for
// limits keyed on something in the body, such as the account of a login.
func Check(c *echo.Context, l Limiter, p Policy, key string, cost int) error {
	d, err := l.Allow(c.Request().Context(), key, p, cost)
	if err != nil {
		return fmt.Errorf("rate limit %s: %w", p.Name, err)
	}
	return answer(c, p, d)
}

// answer writes the headers of decision d under p and returns a
// *TooManyRequests when d refuses, which is a security event.
func answer(c *echo.Context, p Policy, d Decision) error {
	h := c.Response().Header()
	h.Set("RateLimit-Policy", fmt.Sprintf("%q;q=%d;w=%d", p.Name, p.Burst, int(p.Period/time.Second)))
	h.Set("RateLimit", fmt.Sprintf("%q;r=%d;t=%d", p.Name, d.Remaining, retryAfterSeconds(d.ResetAfter)))
	if !d.Allowed {
		h.Set("Retry-After", strconv.Itoa(retryAfterSeconds(d.RetryAfter)))
		secevent.Emit(c.Request().Context(), secevent.RateLimited, secevent.Reason(p.Name))
		return &TooManyRequests{RetryAfter: d.RetryAfter}
	}
	return nil
}
