package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwark-dev/bulwark/internal/web"
	"github.com/bulwark-dev/bulwark/internal/web/redislimit"
	"github.com/bulwark-dev/bulwark/internal/web/redislimit/redistest"
)

// countingLimiter counts the calls that reach the limiter it wraps: how
// often a web.ResilientLimiter actually tried Redis.
type countingLimiter struct {
	web.Limiter
	calls atomic.Int64
}

func (c *countingLimiter) Allow(ctx context.Context, key string, p web.Policy, cost int) (web.Decision, error) {
	c.calls.Add(1)
	return c.Limiter.Allow(ctx, key, p, cost)
}

func (c *countingLimiter) Attempt(ctx context.Context, key string, p web.BackoffPolicy) (time.Duration, error) {
	c.calls.Add(1)
	return c.Limiter.Attempt(ctx, key, p)
}

func (c *countingLimiter) Reset(ctx context.Context, key string, p web.BackoffPolicy) error {
	c.calls.Add(1)
	return c.Limiter.Reset(ctx, key, p)
}

// instance is one process of a fleet: its own Redis connection, its own
// memory, its own log.
type instance struct {
	*web.ResilientLimiter
	shared *countingLimiter
	logs   *bytes.Buffer // written only from the test goroutine
}

func newInstance(t *testing.T, srv *redistest.Server) instance {
	t.Helper()
	logs := &bytes.Buffer{}
	shared := &countingLimiter{Limiter: redislimit.New(srv.Client())}
	return instance{
		ResilientLimiter: web.NewResilientLimiter(shared, web.NewMemoryLimiter(), slog.New(slog.NewJSONHandler(logs, nil))),
		shared:           shared,
		logs:             logs,
	}
}

// logged counts the log lines whose message starts with msg.
func (in instance) logged(t *testing.T, msg string) int {
	t.Helper()
	n := 0
	for line := range strings.Lines(in.logs.String()) {
		var rec struct{ Msg string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if strings.HasPrefix(rec.Msg, msg) {
			n++
		}
	}
	return n
}

// allowedAcross sends n requests, alternating between the instances as a
// load balancer would, and counts the allowed ones.
func allowedAcross(t *testing.T, fleet []instance, key string, p web.Policy, n int) int {
	t.Helper()
	allowed := 0
	for i := range n {
		d, err := fleet[i%len(fleet)].Allow(context.Background(), key, p, 1)
		if err != nil {
			t.Fatalf("request %d on instance %d: %v", i+1, i%len(fleet)+1, err)
		}
		if d.Allowed {
			allowed++
		}
	}
	return allowed
}

// backoffShared reports whether attempts on one instance count on the
// other: with Free 1, the second attempt (on b) sets the wait, so the third
// (on a) is refused only if b's attempt reached a's count.
func backoffShared(t *testing.T, a, b instance, key string) bool {
	t.Helper()
	p := web.BackoffPolicy{Name: "shared-backoff", Free: 1, Base: time.Minute, Max: time.Minute, Forget: time.Hour}
	ctx := context.Background()
	for _, in := range []instance{a, b} {
		if wait, err := in.Attempt(ctx, key, p); err != nil || wait != 0 {
			t.Fatalf("attempt within Free+1 = %s, %v; want 0, nil", wait, err)
		}
	}
	wait, err := a.Attempt(ctx, key, p)
	if err != nil {
		t.Fatalf("third attempt: %v", err)
	}
	return wait > 0
}

// TestResilientLimiterOutage runs two instances on one Redis through an
// outage and back: shared limits while Redis is up; while it is down,
// fail-closed policies refuse at once and the others hold per instance,
// with one log line, not one per request; once it is back, shared limits
// resume without a restart.
func TestResilientLimiterOutage(t *testing.T) {
	srv := redistest.Start(t)
	a, b := newInstance(t, srv), newInstance(t, srv)
	fleet := []instance{a, b}
	ctx := context.Background()

	// Up: both instances spend from one allowance.
	fleetPolicy := web.Policy{Name: "fleet", Burst: 10, Period: time.Hour}
	if got := allowedAcross(t, fleet, "ip:192.0.2.1", fleetPolicy, 20); got != fleetPolicy.Burst {
		t.Errorf("two instances allowed %d requests together, want the burst %d: they do not share the limit", got, fleetPolicy.Burst)
	}
	if !backoffShared(t, a, b, "account:alice@example.com|192.0.2.1") {
		t.Errorf("backoff attempts on one instance did not count on the other")
	}
	if s := a.Stats(); s != (web.LimiterStats{}) {
		t.Errorf("Stats with Redis up = %+v, want zero", s)
	}

	srv.Stop()

	// Fail closed, fast, and Redis tried once, not on every request.
	auth := web.Policy{Name: "auth", Burst: 10, Period: time.Hour, FailClosed: true}
	triedBefore := a.shared.calls.Load()
	began := time.Now()
	const refusals = 20
	for i := range refusals {
		callBegan := time.Now()
		_, err := a.Allow(ctx, "ip:192.0.2.1", auth, 1)
		if took := time.Since(callBegan); took >= 300*time.Millisecond {
			t.Errorf("call %d during the outage took %s, want < 300ms", i+1, took)
		}
		if !errors.Is(err, web.ErrLimiterUnavailable) {
			t.Fatalf("fail-closed call %d during the outage: err = %v, want web.ErrLimiterUnavailable", i+1, err)
		}
	}
	if took := time.Since(began); took >= web.RetryShared {
		t.Fatalf("%d refusals took %s, want < %s", refusals, took, web.RetryShared)
	}
	if tried := a.shared.calls.Load() - triedBefore; tried != 1 {
		t.Errorf("%d of %d calls within a second tried Redis, want 1: the rest must skip it", tried, refusals)
	}

	// Other policies fall back to this instance's memory, and still limit.
	api := web.Policy{Name: "api", Burst: 3, Period: time.Hour}
	var got []bool
	for range 4 {
		d, err := a.Allow(ctx, "ip:192.0.2.1", api, 1)
		if err != nil {
			t.Fatalf("non-fail-closed call during the outage: %v", err)
		}
		got = append(got, d.Allowed)
	}
	if want := []bool{true, true, true, false}; !slices.Equal(got, want) {
		t.Errorf("fallback decisions = %v, want %v", got, want)
	}

	// Backoff follows the same rules.
	closedBackoff := web.BackoffPolicy{Name: "login-backoff", Free: 3, Base: time.Second, Max: time.Minute, Forget: time.Hour, FailClosed: true}
	if _, err := a.Attempt(ctx, "account:alice@example.com|192.0.2.1", closedBackoff); !errors.Is(err, web.ErrLimiterUnavailable) {
		t.Errorf("fail-closed Attempt during the outage: err = %v, want web.ErrLimiterUnavailable", err)
	}
	openBackoff := web.BackoffPolicy{Name: "open-backoff", Free: 1, Base: time.Minute, Max: time.Minute, Forget: time.Hour}
	var waits []bool
	for range 3 {
		wait, err := a.Attempt(ctx, "k", openBackoff)
		if err != nil {
			t.Fatalf("Attempt during the outage: %v", err)
		}
		waits = append(waits, wait > 0)
	}
	if want := []bool{false, false, true}; !slices.Equal(waits, want) {
		t.Errorf("fallback backoff: attempts refused %v, want %v", waits, want)
	}
	if err := a.Reset(ctx, "k", openBackoff); err != nil {
		t.Errorf("Reset during the outage: %v", err)
	}
	if wait, err := a.Attempt(ctx, "k", openBackoff); err != nil || wait != 0 {
		t.Errorf("Attempt after Reset during the outage = %s, %v; want 0, nil", wait, err)
	}

	// Refusals: 20 Allow + 1 Attempt. Fallbacks: 4 Allow, 4 Attempt, 1 Reset.
	if s, want := a.Stats(), (web.LimiterStats{Fallbacks: 9, Refusals: 21, Degraded: true}); s != want {
		t.Errorf("Stats during the outage = %+v, want %+v", s, want)
	}
	if n := a.logged(t, "shared rate limiter failed"); n != 1 {
		t.Errorf("%d \"shared rate limiter failed\" log lines, want 1 for the whole outage:\n%s", n, a.logs)
	}
	// The other instance finds out on its own.
	if _, err := b.Allow(ctx, "ip:192.0.2.1", api, 1); err != nil {
		t.Fatalf("instance 2 during the outage: %v", err)
	}
	if !b.Stats().Degraded {
		t.Errorf("instance 2 not degraded after a call during the outage")
	}

	srv.Restart()

	// Recovery needs no new limiter: within web.RetryShared (plus slack), the
	// next call tries Redis again and succeeds.
	restarted := time.Now()
	const recoverWithin = web.RetryShared + 500*time.Millisecond
	for i, in := range fleet {
		for in.Stats().Degraded && time.Since(restarted) < recoverWithin {
			if _, err := in.Allow(ctx, "probe", api, 0); err != nil {
				t.Fatalf("instance %d: peek while recovering: %v", i+1, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if in.Stats().Degraded {
			t.Fatalf("instance %d still degraded %s after Redis came back", i+1, time.Since(restarted).Round(time.Millisecond))
		}
		if n := in.logged(t, "shared rate limiter recovered"); n != 1 {
			t.Errorf("instance %d: %d \"shared rate limiter recovered\" log lines, want 1:\n%s", i+1, n, in.logs)
		}
	}
	t.Logf("recovered %s after Redis came back", time.Since(restarted).Round(time.Millisecond))

	fallbacks := a.Stats().Fallbacks
	if got := allowedAcross(t, fleet, "ip:192.0.2.1", fleetPolicy, 20); got != fleetPolicy.Burst {
		t.Errorf("after recovery two instances allowed %d requests together, want the burst %d", got, fleetPolicy.Burst)
	}
	if !backoffShared(t, a, b, "account:alice@example.com|192.0.2.1") {
		t.Errorf("after recovery backoff attempts on one instance did not count on the other")
	}
	if got := a.Stats().Fallbacks; got != fallbacks {
		t.Errorf("%d decisions fell back after recovery, want 0", got-fallbacks)
	}
}

// TestResilientLimiterCancelledRequestIsNoOutage: a client that hangs up
// cancels its request's context, which the Redis call then returns. That
// says nothing about Redis; if it tripped the breaker, one cheap request a
// second would keep sign-in refused (503) for every user of the instance.
func TestResilientLimiterCancelledRequestIsNoOutage(t *testing.T) {
	srv := redistest.Start(t)
	in := newInstance(t, srv)
	auth := web.Policy{Name: "auth", Burst: 10, Period: time.Hour, FailClosed: true}

	hungUp, cancel := context.WithCancel(context.Background())
	cancel()
	// Answering or giving up are both fine; refusing as if Redis were down
	// is not.
	if _, err := in.Allow(hungUp, "ip:192.0.2.66", auth, 1); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Allow with a cancelled context: err = %v, want nil or context.Canceled", err)
	}
	if s := in.Stats(); s.Degraded {
		t.Errorf("a cancelled request marked the shared limiter down: Stats = %+v", s)
	}
	if _, err := in.Allow(context.Background(), "ip:192.0.2.1", auth, 1); err != nil {
		t.Errorf("another client's sign-in after a cancelled request: %v", err)
	}
	if n := in.logged(t, "shared rate limiter failed"); n != 0 {
		t.Errorf("a cancelled request logged an outage:\n%s", in.logs)
	}
}
