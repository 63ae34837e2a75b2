package metrics_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/web"
	"github.com/bulwark-dev/bulwark/internal/web/metrics"
	"github.com/bulwark-dev/bulwark/internal/web/secevent"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: %d", rec.Code)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// Labels take the route template, a method from a closed set and a status
// class: never the path, the id, or whatever a client sends as a method.
func TestRequestLabelsAreTemplates(t *testing.T) {
	m := metrics.New()
	e := echo.New()
	e.HTTPErrorHandler = web.ErrorHandler(slog.New(slog.DiscardHandler))
	e.Use(m.Middleware())
	e.GET("/orders/:id", func(c *echo.Context) error { return c.NoContent(http.StatusOK) })
	e.Any("/busy", func(*echo.Context) error { return web.ErrBusy })
	ids := []string{uuid.NewString(), uuid.NewString()}
	for _, id := range ids {
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/orders/"+id, nil))
	}
	e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("PROPFIND-"+ids[0][:8], "/busy", nil))
	e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/no/such/"+ids[1], nil))

	out := scrape(t, m)
	for _, want := range []string{
		`bulwark_http_requests_total{class="2xx",method="GET",route="/orders/:id"} 2`,
		`bulwark_http_requests_total{class="5xx",method="OTHER",route="/busy"} 1`,
		`bulwark_http_request_duration_seconds_count{method="GET",route="/orders/:id"} 2`,
		`bulwark_http_requests_shed_total 1`,
		`bulwark_http_requests_in_flight 0`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	for _, id := range ids {
		if strings.Contains(out, id) || strings.Contains(out, id[:8]) {
			t.Errorf("a label holds the request's id or method %s", id)
		}
	}
}

func TestLimiterDecisionsAndSecurityEvents(t *testing.T) {
	m := metrics.New()
	l := m.Limiter(web.NewMemoryLimiter())
	p := web.Policy{Name: "user", Burst: 2, Period: time.Minute}
	for range 3 {
		_, _ = l.Allow(t.Context(), "k", p, 1)
	}
	_, _ = l.Allow(t.Context(), "k", p, -1) // a refund is no decision
	b := web.BackoffPolicy{Name: "login-backoff", Free: 1, Base: time.Minute, Max: time.Hour, Forget: time.Hour}
	for range 3 { // the first two go through; the second sets a wait
		_, _ = l.Attempt(t.Context(), "k", b)
	}
	emitter := secevent.NewEmitter(slog.New(slog.DiscardHandler), m.SecurityEvent)
	emitter.Emit(t.Context(), secevent.Event{Kind: secevent.Lockout, Reason: "login-account"})

	out := scrape(t, m)
	for _, want := range []string{
		`bulwark_ratelimit_decisions_total{decision="allowed",policy="user"} 2`,
		`bulwark_ratelimit_decisions_total{decision="refused",policy="user"} 1`,
		`bulwark_ratelimit_decisions_total{decision="allowed",policy="login-backoff"} 2`,
		`bulwark_ratelimit_decisions_total{decision="refused",policy="login-backoff"} 1`,
		`bulwark_security_events_total{kind="lockout",reason="login-account"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %s\n%s", want, out)
		}
	}
}

// The shared limiter's fallbacks, counted for tests until now, are series.
func TestSharedLimiterFallbacks(t *testing.T) {
	m := metrics.New()
	r := web.NewResilientLimiter(failing{web.NewMemoryLimiter()}, web.NewMemoryLimiter(), slog.New(slog.DiscardHandler))
	if err := m.WatchLimiter(r); err != nil {
		t.Fatal(err)
	}
	_, _ = r.Allow(t.Context(), "k", web.Policy{Name: "ip", Burst: 5, Period: time.Second}, 1)
	_, _ = r.Allow(t.Context(), "k", web.Policy{Name: "auth-ip", Burst: 5, Period: time.Second, FailClosed: true}, 1)
	out := scrape(t, m)
	for _, want := range []string{
		"bulwark_ratelimit_shared_fallbacks_total 1",
		"bulwark_ratelimit_shared_refusals_total 1",
		"bulwark_ratelimit_shared_degraded 1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
}

// failing is a shared limiter that is down.
type failing struct{ web.Limiter }

func (failing) Allow(context.Context, string, web.Policy, int) (web.Decision, error) {
	return web.Decision{}, io.ErrUnexpectedEOF
}
