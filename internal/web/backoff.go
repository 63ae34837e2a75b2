package web

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/labstack/echo/v5"
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

// Backoff is implemented by every Limiter of this package.
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

// backoffScript is MemoryLimiter.Attempt inside Redis, on Redis's clock.
// Its keys get their own prefix: a hash, never to be read or deleted as a
// GCRA allowance of the same policy name.
// KEYS[1] key; ARGV free, base (µs), max (µs), forget (ms). Returns the
// wait in µs (0 = recorded and allowed).
const backoffScript = `
local free, base, max, forget = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or 0)
local nxt = tonumber(redis.call('HGET', KEYS[1], 'next') or 0)
if now < nxt then return nxt - now end
n = n + 1
local d = 0
if n > free then
  d = base
  for i = free + 2, n do
    if d >= max then break end
    d = d * 2
  end
  if d > max then d = max end
end
redis.call('HSET', KEYS[1], 'n', n, 'next', string.format('%d', now + d))
redis.call('PEXPIRE', KEYS[1], forget)
return 0
`

// Attempt implements Backoff.
func (r *RedisLimiter) Attempt(ctx context.Context, key string, p BackoffPolicy) (time.Duration, error) {
	wait, err := r.backoff.Run(ctx, r.client, []string{redisKey("backoff:"+p.Name, key)},
		p.Free, p.Base.Microseconds(), p.Max.Microseconds(), p.Forget.Milliseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("redis backoff: %w", err)
	}
	return time.Duration(wait) * time.Microsecond, nil
}

// Reset implements Backoff.
func (r *RedisLimiter) Reset(ctx context.Context, key string, p BackoffPolicy) error {
	if err := r.client.Del(ctx, redisKey("backoff:"+p.Name, key)).Err(); err != nil {
		return fmt.Errorf("redis backoff reset: %w", err)
	}
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
		return &TooManyRequests{RetryAfter: wait}
	}
	return nil
}
