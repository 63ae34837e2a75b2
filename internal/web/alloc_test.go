//go:build !race

package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/web"
)

// Allocation budgets of the per-request defences: the figures they reached
// when last tuned (docs/performance.md) plus a small margin. Counts, not
// timings, so CI holds them on any machine; the race detector changes the
// counts, hence the build tag.
const (
	strictBindAllocBudget    = 28 // 25 for a three-line order body, decoded and validated
	memoryLimiterAllocBudget = 2  // 1: the key's string
)

func TestStrictBindAllocationBudget(t *testing.T) {
	e := echo.New()
	binder := web.StrictJSONBinder{Validator: web.NewValidator()}
	const body = `{"items":[{"sku":"BOOK-1","quantity":2},{"sku":"PEN-7","quantity":10},{"sku":"MUG-3","quantity":1}],` +
		`"shipping":{"city":"Berlin"},"note":"Leave it with the neighbour."}`
	newContext := func() *echo.Context {
		req := httptest.NewRequest(http.MethodPost, "/orders", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		return e.NewContext(req, httptest.NewRecorder())
	}
	// The request itself is built in both runs, so only the binder's own
	// allocations are held to the budget.
	setup := testing.AllocsPerRun(200, func() { _ = newContext() })
	total := testing.AllocsPerRun(200, func() {
		var dst benchOrder
		if err := binder.Bind(newContext(), &dst); err != nil {
			t.Fatal(err)
		}
	})
	got := total - setup
	t.Logf("strict binder: %.0f allocations", got)
	if got > strictBindAllocBudget {
		t.Errorf("strict binder allocates %.0f times, budget %d (docs/performance.md)", got, strictBindAllocBudget)
	}
}

func TestMemoryLimiterAllocationBudget(t *testing.T) {
	l := web.NewMemoryLimiter()
	p := web.Policy{Name: "budget", Burst: 1 << 20, Period: time.Hour}
	ctx := context.Background()
	got := testing.AllocsPerRun(500, func() {
		if _, err := l.Allow(ctx, "ip:192.0.2.1", p, 1); err != nil {
			t.Fatal(err)
		}
	})
	if got > memoryLimiterAllocBudget {
		t.Errorf("memory limiter allocates %.0f times, budget %d (docs/performance.md)", got, memoryLimiterAllocBudget)
	}
}
