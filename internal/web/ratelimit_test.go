package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v5"
)

// clock is a hand-driven time source for MemoryLimiter.now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newClockedLimiter() (*MemoryLimiter, *clock) {
	c := &clock{t: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)}
	m := NewMemoryLimiter()
	m.now = c.now
	return m, c
}

func mustAllow(t *testing.T, m *MemoryLimiter, key string, p Policy, cost int) Decision {
	t.Helper()
	d, err := m.Allow(context.Background(), key, p, cost)
	if err != nil {
		t.Fatalf("Allow(%q, %s, cost %d): %v", key, p.Name, cost, err)
	}
	return d
}

// threePerThree refills one request per second, three at most.
var threePerThree = Policy{Name: "test", Burst: 3, Period: 3 * time.Second}

func TestMemoryLimiterBurstThenDeny(t *testing.T) {
	m, _ := newClockedLimiter()
	var got []Decision
	for range 4 {
		got = append(got, mustAllow(t, m, "ip:192.0.2.1", threePerThree, 1))
	}
	want := []Decision{
		{Allowed: true, Remaining: 2, ResetAfter: 1 * time.Second},
		{Allowed: true, Remaining: 1, ResetAfter: 2 * time.Second},
		{Allowed: true, Remaining: 0, ResetAfter: 3 * time.Second},
		{Allowed: false, Remaining: 0, RetryAfter: 1 * time.Second, ResetAfter: 3 * time.Second},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decisions (-want +got):\n%s", diff)
	}
}

func TestMemoryLimiterRefill(t *testing.T) {
	m, c := newClockedLimiter()
	const key = "ip:192.0.2.1"
	for range 3 {
		mustAllow(t, m, key, threePerThree, 1)
	}
	if d := mustAllow(t, m, key, threePerThree, 1); d.Allowed {
		t.Fatal("fourth request allowed within the burst window")
	}

	c.advance(999 * time.Millisecond)
	if d := mustAllow(t, m, key, threePerThree, 1); d.Allowed {
		t.Errorf("allowed before one interval passed")
	}
	c.advance(time.Millisecond) // one interval: room for exactly one more
	if d := mustAllow(t, m, key, threePerThree, 1); !d.Allowed {
		t.Errorf("denied after one interval: %+v", d)
	}
	if d := mustAllow(t, m, key, threePerThree, 1); d.Allowed {
		t.Errorf("two requests allowed after one interval")
	}

	// A long pause refills the burst, and never more than the burst.
	c.advance(time.Hour)
	allowed := 0
	for range 10 {
		if mustAllow(t, m, key, threePerThree, 1).Allowed {
			allowed++
		}
	}
	if allowed != threePerThree.Burst {
		t.Errorf("after a long pause %d requests allowed, want the burst %d", allowed, threePerThree.Burst)
	}
}

func TestMemoryLimiterPeekDoesNotConsume(t *testing.T) {
	m, _ := newClockedLimiter()
	const key = "account:alice@example.com"
	for i := range 10 {
		d := mustAllow(t, m, key, threePerThree, 0)
		if !d.Allowed || d.Remaining != 3 {
			t.Fatalf("peek %d = %+v, want allowed with 3 remaining", i, d)
		}
	}
	for i := range 3 {
		if d := mustAllow(t, m, key, threePerThree, 1); !d.Allowed {
			t.Fatalf("request %d after peeks denied: peeks consumed allowance", i)
		}
	}
	if d := mustAllow(t, m, key, threePerThree, 0); d.Allowed || d.RetryAfter <= 0 {
		t.Errorf("peek on an exhausted key = %+v, want denied with RetryAfter > 0", d)
	}
}

func TestMemoryLimiterCost(t *testing.T) {
	m, _ := newClockedLimiter()
	if d := mustAllow(t, m, "k", threePerThree, 2); !d.Allowed || d.Remaining != 1 {
		t.Errorf("cost 2 of 3 = %+v, want allowed with 1 remaining", d)
	}
	if d := mustAllow(t, m, "k", threePerThree, 2); d.Allowed {
		t.Errorf("cost 2 with 1 remaining allowed")
	}
	if d := mustAllow(t, m, "k", threePerThree, 1); !d.Allowed {
		t.Errorf("cost 1 with 1 remaining denied: a refused request must not spend allowance")
	}
	if d := mustAllow(t, m, "other", threePerThree, 4); d.Allowed {
		t.Errorf("cost above the burst allowed")
	}
}

// TestMemoryLimiterRefund covers limits that count only failures: spend
// before the attempt, give it back (negative cost) when it succeeded.
func TestMemoryLimiterRefund(t *testing.T) {
	m, _ := newClockedLimiter()
	const key = "account:bob@example.com"
	for range 3 {
		mustAllow(t, m, key, threePerThree, 1)
	}
	if d := mustAllow(t, m, key, threePerThree, 1); d.Allowed {
		t.Fatal("fourth request allowed within the burst window")
	}
	if d := mustAllow(t, m, key, threePerThree, -1); !d.Allowed || d.Remaining != 1 {
		t.Errorf("refund of 1 = %+v, want allowed with 1 remaining", d)
	}
	if d := mustAllow(t, m, key, threePerThree, 1); !d.Allowed {
		t.Errorf("request after a refund denied: %+v", d)
	}
	if d := mustAllow(t, m, key, threePerThree, 1); d.Allowed {
		t.Errorf("a refund of 1 let 2 requests through")
	}

	// Refunds never bank allowance beyond a full burst: a client cannot
	// succeed ten times to earn thirteen failures.
	const fresh = "account:carol@example.com"
	for range 10 {
		if d := mustAllow(t, m, fresh, threePerThree, -1); d.Remaining != threePerThree.Burst {
			t.Fatalf("refund on a full key = %+v, want Remaining %d", d, threePerThree.Burst)
		}
	}
	allowed := 0
	for range 10 {
		if mustAllow(t, m, fresh, threePerThree, 1).Allowed {
			allowed++
		}
	}
	if allowed != threePerThree.Burst {
		t.Errorf("after 10 refunds on a full key %d requests allowed, want the burst %d", allowed, threePerThree.Burst)
	}
}

func TestMemoryLimiterIndependentKeysAndPolicies(t *testing.T) {
	m, _ := newClockedLimiter()
	login := Policy{Name: "login", Burst: 1, Period: time.Minute}
	api := Policy{Name: "api", Burst: 1, Period: time.Minute}

	mustAllow(t, m, "ip:192.0.2.1", login, 1)
	tests := []struct {
		name string
		key  string
		p    Policy
		want bool
	}{
		{name: "same key, same policy", key: "ip:192.0.2.1", p: login, want: false},
		{name: "other key, same policy", key: "ip:192.0.2.2", p: login, want: true},
		{name: "same key, other policy", key: "ip:192.0.2.1", p: api, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustAllow(t, m, tt.key, tt.p, 1).Allowed; got != tt.want {
				t.Errorf("Allowed = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMemoryLimiterRefusesInvalidPolicy(t *testing.T) {
	m, _ := newClockedLimiter()
	tests := []struct {
		name string
		p    Policy
		cost int
	}{
		{name: "zero burst", p: Policy{Name: "p", Burst: 0, Period: time.Second}, cost: 1},
		{name: "zero period", p: Policy{Name: "p", Burst: 1, Period: 0}, cost: 1},
		{name: "negative burst", p: Policy{Name: "p", Burst: -1, Period: time.Second}, cost: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d, err := m.Allow(context.Background(), "k", tt.p, tt.cost); err == nil {
				t.Errorf("Allow = %+v, nil; want an error", d)
			}
		})
	}
}

func TestMemoryLimiterSweepsIdleKeys(t *testing.T) {
	m, c := newClockedLimiter()
	for _, key := range []string{"a", "b", "c"} {
		mustAllow(t, m, key, threePerThree, 1)
	}
	c.advance(2 * time.Minute)
	mustAllow(t, m, "d", threePerThree, 1)
	if got := len(m.tat); got != 1 {
		t.Errorf("%d keys kept after they refilled, want only the active one", got)
	}
}

func TestRateLimitMiddleware(t *testing.T) {
	m, _ := newClockedLimiter()
	e := echo.New()
	e.HTTPErrorHandler = ErrorHandler(slog.New(slog.DiscardHandler))
	e.IPExtractor = echo.ExtractIPDirect()
	e.GET("/", func(c *echo.Context) error { return c.NoContent(http.StatusNoContent) },
		RateLimit(m, Policy{Name: "per-ip", Burst: 2, Period: 10 * time.Second}, ByIP))

	var got []string
	for range 3 {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = "192.0.2.1:1234"
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		h := rec.Header()
		got = append(got, http.StatusText(rec.Code)+" | "+h.Get("RateLimit-Policy")+" | "+h.Get("RateLimit")+" | "+h.Get("Retry-After"))
	}
	want := []string{
		`No Content | "per-ip";q=2;w=10 | "per-ip";r=1;t=5 | `,
		`No Content | "per-ip";q=2;w=10 | "per-ip";r=0;t=10 | `,
		`Too Many Requests | "per-ip";q=2;w=10 | "per-ip";r=0;t=10 | 5`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("responses (-want +got):\n%s", diff)
	}
}

// Clear gives every key its full allowance back.
func TestMemoryLimiterClear(t *testing.T) {
	m := NewMemoryLimiter()
	p := Policy{Name: "p", Burst: 1, Period: time.Hour}
	ctx := context.Background()
	if d, _ := m.Allow(ctx, "k", p, 1); !d.Allowed {
		t.Fatal("first request refused")
	}
	if d, _ := m.Allow(ctx, "k", p, 1); d.Allowed {
		t.Fatal("control: second request allowed")
	}
	m.Clear()
	if d, _ := m.Allow(ctx, "k", p, 1); !d.Allowed {
		t.Error("refused after Clear")
	}
}
