// Package limitertest is the contract every web.Limiter keeps, whatever
// its store. The in-memory limiter (package web) and the Redis limiter
// (package redislimit) both run it, so a fleet that moves from one to the
// other keeps the same limits. The Redis limiter runs on Redis's clock, so
// these cases cannot use a fake clock: the time-bound ones sleep, on short
// periods, and allow a few milliseconds either way.
package limitertest

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwark-dev/bulwark/internal/web"
)

// Run runs the contract on the limiters fresh returns: a new, empty one
// for each case.
func Run(t *testing.T, fresh func(t *testing.T) web.Limiter) {
	t.Helper()
	for _, tc := range contract() {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, fresh(t)) })
	}
}

// tolerance absorbs the scheduling between a limiter's clock reading and
// ours: waits are measured a few hundred microseconds after they are set.
const tolerance = 25 * time.Millisecond

func decide(t *testing.T, l web.Limiter, key string, p web.Policy, cost int) web.Decision {
	t.Helper()
	d, err := l.Allow(context.Background(), key, p, cost)
	if err != nil {
		t.Fatalf("Allow(%q, %s, cost %d): %v", key, p.Name, cost, err)
	}
	return d
}

func attempt(t *testing.T, l web.Limiter, key string, p web.BackoffPolicy) time.Duration {
	t.Helper()
	wait, err := l.Attempt(context.Background(), key, p)
	if err != nil {
		t.Fatalf("Attempt(%q, %s): %v", key, p.Name, err)
	}
	return wait
}

// countAllowed sends n requests of cost 1 and counts the allowed ones.
func countAllowed(t *testing.T, l web.Limiter, key string, p web.Policy, n int) int {
	t.Helper()
	allowed := 0
	for range n {
		if decide(t, l, key, p, 1).Allowed {
			allowed++
		}
	}
	return allowed
}

// within reports whether got is in (want-tolerance, want]: a wait read
// shortly after it was set has run down a little, never grown.
func within(got, want time.Duration) bool {
	return got > want-tolerance && got <= want
}

type contractCase struct {
	name string
	run  func(t *testing.T, l web.Limiter)
}

func contract() []contractCase {
	return []contractCase{
		{"burst then deny", func(t *testing.T, l web.Limiter) {
			p := web.Policy{Name: "burst", Burst: 3, Period: 3 * time.Minute} // one a minute
			if got := countAllowed(t, l, "ip:192.0.2.1", p, 3); got != 3 {
				t.Fatalf("%d of the first 3 requests allowed, want the whole burst", got)
			}
			d := decide(t, l, "ip:192.0.2.1", p, 1)
			if d.Allowed || d.Remaining != 0 {
				t.Fatalf("request after the burst = %+v, want denied with 0 remaining", d)
			}
			// One request fits again after one interval (a minute), the whole
			// burst after the period.
			if !within(d.RetryAfter, p.Interval()) {
				t.Errorf("RetryAfter = %s, want about %s (one interval)", d.RetryAfter, p.Interval())
			}
			if !within(d.ResetAfter, p.Period) {
				t.Errorf("ResetAfter = %s, want about %s (the period)", d.ResetAfter, p.Period)
			}
		}},
		{"remaining counts down", func(t *testing.T, l web.Limiter) {
			p := web.Policy{Name: "countdown", Burst: 5, Period: 5 * time.Minute}
			var got []int
			for range 5 {
				got = append(got, decide(t, l, "k", p, 1).Remaining)
			}
			want := []int{4, 3, 2, 1, 0}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("Remaining after each request = %v, want %v", got, want)
				}
			}
			if d := decide(t, l, "cost", p, 3); !d.Allowed || d.Remaining != 2 {
				t.Errorf("cost 3 of 5 = %+v, want allowed with 2 remaining", d)
			}
			if d := decide(t, l, "cost", p, 3); d.Allowed {
				t.Errorf("cost 3 with 2 remaining allowed")
			}
			if d := decide(t, l, "cost", p, 2); !d.Allowed || d.Remaining != 0 {
				t.Errorf("cost 2 with 2 remaining = %+v, want allowed: a refused request must not spend", d)
			}
			if d := decide(t, l, "big", p, 6); d.Allowed {
				t.Errorf("cost above the burst allowed")
			}
		}},
		{"refill after the interval", func(t *testing.T, l web.Limiter) {
			p := web.Policy{Name: "refill", Burst: 2, Period: 200 * time.Millisecond} // one per 100ms
			countAllowed(t, l, "k", p, 2)
			d := decide(t, l, "k", p, 1)
			if d.Allowed || !within(d.RetryAfter, p.Interval()) {
				t.Fatalf("request after the burst = %+v, want denied with RetryAfter about %s", d, p.Interval())
			}
			time.Sleep(d.RetryAfter + 5*time.Millisecond)
			// One token has come back. On a loaded machine the three
			// requests themselves may span another interval, which
			// rightly refills one more: the bound follows the clock.
			start := time.Now()
			got := countAllowed(t, l, "k", p, 3)
			most := 1 + int(time.Since(start)/p.Interval())
			if got < 1 || got > most {
				t.Errorf("%d requests allowed one interval later, want 1 (at most %d in the time they took)", got, most)
			}
			// A long pause refills the burst, and never more than the burst.
			time.Sleep(p.Period + tolerance)
			if got := countAllowed(t, l, "k", p, 5); got != p.Burst {
				t.Errorf("%d requests allowed after a full period, want the burst %d", got, p.Burst)
			}
		}},
		{"cost 0 peeks without spending", func(t *testing.T, l web.Limiter) {
			p := web.Policy{Name: "peek", Burst: 3, Period: time.Hour}
			for i := range 5 {
				if d := decide(t, l, "k", p, 0); !d.Allowed || d.Remaining != 3 {
					t.Fatalf("peek %d on a fresh key = %+v, want allowed with 3 remaining", i, d)
				}
			}
			if got := countAllowed(t, l, "k", p, 3); got != 3 {
				t.Fatalf("%d of 3 requests allowed after peeks: the peeks spent allowance", got)
			}
			if d := decide(t, l, "k", p, 0); d.Allowed || d.RetryAfter <= 0 {
				t.Errorf("peek on an exhausted key = %+v, want denied with RetryAfter > 0", d)
			}
		}},
		{"negative cost refunds up to the burst", func(t *testing.T, l web.Limiter) {
			p := web.Policy{Name: "refund", Burst: 3, Period: time.Hour}
			const key = "account:bob@example.com"
			countAllowed(t, l, key, p, 3)
			if d := decide(t, l, key, p, -1); !d.Allowed || d.Remaining != 1 {
				t.Errorf("refund of 1 on an exhausted key = %+v, want allowed with 1 remaining", d)
			}
			if got := countAllowed(t, l, key, p, 3); got != 1 {
				t.Errorf("a refund of 1 let %d requests through, want 1", got)
			}
			// A client cannot succeed ten times to bank thirteen failures.
			const fresh = "account:carol@example.com"
			for range 10 {
				if d := decide(t, l, fresh, p, -1); d.Remaining != p.Burst {
					t.Fatalf("refund on a full key = %+v, want Remaining %d", d, p.Burst)
				}
			}
			if got := countAllowed(t, l, fresh, p, 10); got != p.Burst {
				t.Errorf("after 10 refunds on a full key %d requests allowed, want the burst %d", got, p.Burst)
			}
		}},
		{"keys and policy names are independent", func(t *testing.T, l web.Limiter) {
			login := web.Policy{Name: "login", Burst: 1, Period: time.Minute}
			api := web.Policy{Name: "api", Burst: 1, Period: time.Minute}
			decide(t, l, "ip:192.0.2.1", login, 1)
			tests := []struct {
				name string
				key  string
				p    web.Policy
				want bool
			}{
				{name: "same key, same policy", key: "ip:192.0.2.1", p: login, want: false},
				{name: "other key, same policy", key: "ip:192.0.2.2", p: login, want: true},
				{name: "same key, other policy", key: "ip:192.0.2.1", p: api, want: true},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					if got := decide(t, l, tt.key, tt.p, 1).Allowed; got != tt.want {
						t.Errorf("Allowed = %v, want %v", got, tt.want)
					}
				})
			}
		}},
		{"a rate limit and a backoff of the same name are independent", func(t *testing.T, l web.Limiter) {
			// Nothing stops a caller from naming a Policy and a BackoffPolicy
			// alike; the memory limiter keeps them apart, so every store must.
			p := web.Policy{Name: "login", Burst: 1, Period: time.Minute}
			b := web.BackoffPolicy{Name: "login", Free: 0, Base: time.Minute, Max: time.Minute, Forget: time.Hour}
			const key = "account:dave@example.com"
			decide(t, l, key, p, 1)
			if wait := attempt(t, l, key, b); wait != 0 {
				t.Errorf("first backoff attempt waits %s: the rate limit's spend counted as an attempt", wait)
			}
			if err := l.Reset(context.Background(), key, b); err != nil {
				t.Fatalf("Reset: %v", err)
			}
			if d := decide(t, l, key, p, 1); d.Allowed {
				t.Errorf("a backoff Reset gave the rate limit of the same name its allowance back")
			}
		}},
		{"invalid policies are refused", func(t *testing.T, l web.Limiter) {
			for _, p := range []web.Policy{
				{Name: "zero burst", Burst: 0, Period: time.Second},
				{Name: "negative burst", Burst: -1, Period: time.Second},
				{Name: "zero period", Burst: 1, Period: 0},
			} {
				if d, err := l.Allow(context.Background(), "k", p, 1); err == nil {
					t.Errorf("Allow with policy %q = %+v, nil; want an error", p.Name, d)
				}
			}
		}},
		{"concurrent requests spend the burst exactly once", func(t *testing.T, l web.Limiter) {
			p := web.Policy{Name: "concurrent", Burst: 25, Period: time.Hour}
			var allowed atomic.Int64
			var wg sync.WaitGroup
			for range 40 {
				wg.Go(func() {
					for range 10 {
						d, err := l.Allow(context.Background(), "ip:198.51.100.7", p, 1)
						if err != nil {
							t.Error(err)
							return
						}
						if d.Allowed {
							allowed.Add(1)
						}
					}
				})
			}
			wg.Wait()
			if got := allowed.Load(); got != int64(p.Burst) {
				t.Errorf("%d of 400 concurrent requests allowed, want exactly the burst of %d", got, p.Burst)
			}
		}},
		{"backoff doubles the wait up to Max", func(t *testing.T, l web.Limiter) {
			p := web.BackoffPolicy{Name: "backoff", Free: 2, Base: 50 * time.Millisecond, Max: 400 * time.Millisecond, Forget: time.Minute}
			const key = "account:alice@example.com|192.0.2.1"
			// Free attempts, then the first one that sets a wait: all recorded.
			for i := range p.Free + 1 {
				if wait := attempt(t, l, key, p); wait != 0 {
					t.Fatalf("attempt %d waits %s, want 0", i+1, wait)
				}
			}
			var waits []time.Duration
			for range 5 {
				wait := attempt(t, l, key, p)
				waits = append(waits, wait)
				// A refused attempt records nothing, so it cannot lengthen the wait.
				if again := attempt(t, l, key, p); again > wait {
					t.Fatalf("a refused attempt lengthened the wait from %s to %s", wait, again)
				}
				time.Sleep(wait + 2*time.Millisecond)
				if again := attempt(t, l, key, p); again != 0 {
					t.Fatalf("attempt after waiting %s still waits %s", wait, again)
				}
			}
			want := []time.Duration{50, 100, 200, 400, 400}
			for i := range want {
				if !within(waits[i], want[i]*time.Millisecond) {
					t.Fatalf("waits = %v, want about %v ms", waits, want)
				}
			}
		}},
		{"backoff Reset clears the count", func(t *testing.T, l web.Limiter) {
			p := web.BackoffPolicy{Name: "reset", Free: 1, Base: time.Minute, Max: time.Minute, Forget: time.Hour}
			// blocked makes n attempts on key and reports which were refused.
			blocked := func(key string, n int) []bool {
				var refused []bool
				for range n {
					refused = append(refused, attempt(t, l, key, p) > 0)
				}
				return refused
			}
			want := []bool{false, false, true} // Free, then one that sets the wait, then refused
			for _, key := range []string{"a", "b"} {
				if got := blocked(key, 3); !slices.Equal(got, want) {
					t.Fatalf("key %s: attempts blocked %v, want %v", key, got, want)
				}
			}
			if err := l.Reset(context.Background(), "a", p); err != nil {
				t.Fatalf("Reset: %v", err)
			}
			if got := blocked("a", 3); !slices.Equal(got, want) {
				t.Errorf("after Reset: attempts blocked %v, want %v (counted from zero)", got, want)
			}
			if wait := attempt(t, l, "b", p); wait == 0 {
				t.Errorf("Reset of key a let key b through")
			}
			if err := l.Reset(context.Background(), "never-seen", p); err != nil {
				t.Errorf("Reset of an unknown key: %v", err)
			}
		}},
		{"backoff forgets after Forget", func(t *testing.T, l web.Limiter) {
			p := web.BackoffPolicy{Name: "forget", Free: 0, Base: 50 * time.Millisecond, Max: time.Minute, Forget: 150 * time.Millisecond}
			const key = "k"
			attempt(t, l, key, p) // 1st: recorded, wait Base
			time.Sleep(p.Base + 5*time.Millisecond)
			attempt(t, l, key, p) // 2nd: recorded, wait 2·Base
			if wait := attempt(t, l, key, p); !within(wait, 2*p.Base) {
				t.Fatalf("wait after the 2nd attempt = %s, want about %s", wait, 2*p.Base)
			}
			// Idle longer than Forget: the next attempt counts as the first.
			time.Sleep(p.Forget + tolerance)
			if wait := attempt(t, l, key, p); wait != 0 {
				t.Fatalf("attempt after Forget waits %s, want 0", wait)
			}
			if wait := attempt(t, l, key, p); !within(wait, p.Base) {
				t.Errorf("wait after the first attempt since Forget = %s, want about %s (a fresh count), not %s", wait, p.Base, 4*p.Base)
			}
		}},
		{"concurrent attempts check and record atomically", func(t *testing.T, l web.Limiter) {
			p := web.BackoffPolicy{Name: "atomic", Free: 3, Base: time.Minute, Max: time.Minute, Forget: time.Hour}
			var recorded atomic.Int64
			var wg sync.WaitGroup
			for range 20 {
				wg.Go(func() {
					wait, err := l.Attempt(context.Background(), "account:erin@example.com|192.0.2.9", p)
					if err != nil {
						t.Error(err)
						return
					}
					if wait == 0 {
						recorded.Add(1)
					}
				})
			}
			wg.Wait()
			// Free, plus the one that sets the first wait.
			if got := recorded.Load(); got != int64(p.Free+1) {
				t.Errorf("%d of 20 concurrent attempts went through, want exactly Free+1 = %d", got, p.Free+1)
			}
		}},
	}
}
