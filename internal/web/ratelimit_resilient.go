package web

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// ErrLimiterUnavailable is what a fail-closed policy answers while the
// shared limiter is down (503, Retry-After): sign-in is refused rather than
// left unlimited for the length of the outage.
const ErrLimiterUnavailable = Unavailable("Sign-in is temporarily unavailable; retry shortly.")

// ResilientLimiter puts the shared (Redis) limiter first and decides what
// happens when it fails, per policy:
//   - FailClosed policies (authentication) refuse the request with 503: an
//     outage must not open a window for unlimited password guessing;
//   - the others fall back to this instance's in-memory limiter, with a log
//     line and a counter: limits still hold per instance, reads keep working.
//
// After a failure the shared limiter is skipped for a second, so an outage
// costs one timeout per second, not one per request; after that it is
// tried again, so recovery needs no restart.
type ResilientLimiter struct {
	shared    Limiter
	local     Limiter
	logger    *slog.Logger
	now       func() time.Time
	downUntil atomic.Int64 // unix nanoseconds; 0 = healthy
	fallbacks atomic.Int64
	refusals  atomic.Int64
}

// retryShared is how long a failed shared limiter is left alone;
// sharedTimeout bounds one call to it.
const (
	retryShared   = time.Second
	sharedTimeout = 300 * time.Millisecond
)

// NewResilientLimiter combines the shared and the local limiter.
func NewResilientLimiter(shared, local Limiter, logger *slog.Logger) *ResilientLimiter {
	return &ResilientLimiter{shared: shared, local: local, logger: logger, now: time.Now}
}

// Allow implements Limiter.
func (r *ResilientLimiter) Allow(ctx context.Context, key string, p Policy, cost int) (Decision, error) {
	var d Decision
	err := r.do(ctx, p.Name, p.FailClosed, func(ctx context.Context, l Limiter) error {
		var err error
		d, err = l.Allow(ctx, key, p, cost)
		return err
	})
	return d, err
}

// do runs call on the shared limiter, or, while it is failing, refuses
// (fail-closed policies) or runs call on the local one. The call to the
// shared limiter does not inherit the request's cancellation: a client
// hanging up must not look like a Redis outage, or anyone could switch
// sign-in off for everyone by dropping connections. It has its own short
// deadline instead.
func (r *ResilientLimiter) do(ctx context.Context, policy string, failClosed bool, call func(context.Context, Limiter) error) error {
	now := r.now()
	if now.UnixNano() >= r.downUntil.Load() {
		sharedCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedTimeout)
		err := call(sharedCtx, r.shared)
		cancel()
		if err == nil {
			if r.downUntil.Swap(0) != 0 {
				r.logger.Info("shared rate limiter recovered")
			}
			return nil
		}
		if r.downUntil.Swap(now.Add(retryShared).UnixNano()) == 0 {
			r.logger.Error("shared rate limiter failed; auth fails closed, other limits fall back to this instance", "error", err)
		}
	}
	if failClosed {
		r.refusals.Add(1)
		return fmt.Errorf("policy %s: %w", policy, ErrLimiterUnavailable)
	}
	r.fallbacks.Add(1)
	return call(ctx, r.local)
}

// LimiterStats counts the decisions taken without the shared limiter.
type LimiterStats struct {
	Fallbacks int64 // answered by the local limiter
	Refusals  int64 // refused, fail-closed
	Degraded  bool  // the shared limiter is currently being skipped
}

// Stats reports the counters, for metrics and tests.
func (r *ResilientLimiter) Stats() LimiterStats {
	return LimiterStats{
		Fallbacks: r.fallbacks.Load(),
		Refusals:  r.refusals.Load(),
		Degraded:  r.downUntil.Load() != 0,
	}
}
