package web

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/web/secevent"
)

// BackoffPolicy slows down repeated attempts on one key exponentially:
// Free attempts go through at once, then each further attempt must wait
// Base, 2·Base, 4·Base, … up to Max. The count is forgotten after Forget
// without attempts, and reset by a success.
type BackoffPolicy struct {
	Name       string
	Free       int
	Base       time.Duration
	Max        time.Duration
	Forget     time.Duration
	FailClosed bool
}

// delay is the wait imposed after the n-th attempt.
func (p BackoffPolicy) delay(n int) time.Duration {
	if n <= p.Free {
		return 0
	}
	d := p.Base
	for i := p.Free + 1; i < n && d < p.Max; i++ {
		d *= 2
	}
	return min(d, p.Max)
}

// Backoff is implemented by every Limiter, in memory or in Redis.
type Backoff interface {
	// Attempt records an attempt on key and returns 0, or, while the key
	// must still wait, how long (and records nothing). Check and record are
	// one atomic step, so concurrent attempts cannot all slip through.
	Attempt(ctx context.Context, key string, p BackoffPolicy) (time.Duration, error)
	// Reset forgets key's attempts, after a success.
	Reset(ctx context.Context, key string, p BackoffPolicy) error
}

type backoffState struct {
	n      int
	next   time.Time
	forget time.Time
}

// Attempt implements Backoff.
func (m *MemoryLimiter) Attempt(_ context.Context, key string, p BackoffPolicy) (time.Duration, error) {
	key = p.Name + "|" + key
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.sweep(now)
	s := m.backoff[key]
	if now.After(s.forget) {
		s = backoffState{}
	}
	if now.Before(s.next) {
		return s.next.Sub(now), nil
	}
	s.n++
	s.next = now.Add(p.delay(s.n))
	s.forget = now.Add(p.Forget)
	m.backoff[key] = s
	return 0, nil
}

// Reset implements Backoff.
func (m *MemoryLimiter) Reset(_ context.Context, key string, p BackoffPolicy) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.backoff, p.Name+"|"+key)
	return nil
}

// Attempt implements Backoff with the same failure rules as Allow.
func (r *ResilientLimiter) Attempt(ctx context.Context, key string, p BackoffPolicy) (time.Duration, error) {
	var wait time.Duration
	err := r.do(ctx, p.Name, p.FailClosed, func(ctx context.Context, l Limiter) error {
		var err error
		wait, err = l.Attempt(ctx, key, p)
		return err
	})
	return wait, err
}

// Reset implements Backoff.
func (r *ResilientLimiter) Reset(ctx context.Context, key string, p BackoffPolicy) error {
	return r.do(ctx, p.Name, false, func(ctx context.Context, l Limiter) error { return l.Reset(ctx, key, p) })
}

// CheckBackoff records an attempt on key and returns a *TooManyRequests
// (429, Retry-After) while the key must wait.
func CheckBackoff(c *echo.Context, b Backoff, p BackoffPolicy, key string) error {
	wait, err := b.Attempt(c.Request().Context(), key, p)
	if err != nil {
		return fmt.Errorf("backoff %s: %w", p.Name, err)
	}
	if wait > 0 {
		c.Response().Header().Set("RateLimit-Policy", fmt.Sprintf("%q;q=%d", p.Name, p.Free))
		c.Response().Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
		secevent.Emit(c.Request().Context(), secevent.RateLimited, secevent.Reason(p.Name))
		return &TooManyRequests{RetryAfter: wait}
	}
	return nil
}
