// Package metrics is the service's Prometheus instrumentation: requests by
// route template, method and status class with their latency, requests in
// flight and shed, rate-limit decisions by policy, the shared limiter's
// fallbacks, and the security events (internal/web/secevent). The
// registry is the service's own (no global, no init), served on a
// listener apart from the API's (METRICS_ADDR, internal/app/metrics.go),
// and docs/operations.md lists every series and what to alert on.
//
// No label ever takes a raw path, an id, a user or an address: routes are
// templates, methods and kinds come from closed sets, so a client cannot
// create series, and the metrics leak nothing the log would not.
package metrics

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/bulwark-dev/bulwark/internal/web"
	"github.com/bulwark-dev/bulwark/internal/web/secevent"
)

// Namespace prefixes every series of the service.
const Namespace = "bulwark"

// Metrics holds the service's registry and its instruments. A nil
// *Metrics is valid and measures nothing, for code built without one.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
	shed     prometheus.Counter
	security *prometheus.CounterVec
	limits   *prometheus.CounterVec
}

// New returns the instruments, registered on a fresh registry together
// with the Go runtime's and the process's collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "http", Name: "requests_total",
			Help: "Requests answered, by route template, method and status class (2xx, 4xx, ...).",
		}, []string{"route", "method", "class"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time to answer a request, by route template and method.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route", "method"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Subsystem: "http", Name: "requests_in_flight",
			Help: "Requests being served now.",
		}),
		shed: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "http", Name: "requests_shed_total",
			Help: "Requests refused with 503 because MAX_IN_FLIGHT_REQUESTS were already being served.",
		}),
		security: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "security", Name: "events_total",
			Help: "Security events by kind and reason (docs/operations.md).",
		}, []string{"kind", "reason"}),
		limits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "ratelimit", Name: "decisions_total",
			Help: "Rate-limit checks by policy and decision (allowed, refused); refunds are not counted.",
		}, []string{"policy", "decision"}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.inFlight, m.shed, m.security, m.limits,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Register adds a collector of another package (the database pool's,
// postgres.PoolCollector).
func (m *Metrics) Register(c prometheus.Collector) error {
	if m == nil {
		return nil
	}
	return m.reg.Register(c)
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, MaxRequestsInFlight: 4})
}

// Middleware measures every request: count and latency by route template,
// method and status class, the number in flight, and those refused by load
// shedding (web.Shed). It runs next to the request logger and computes the
// status the same way, so both agree with what the client got.
func (m *Metrics) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if m == nil {
			return next
		}
		return func(c *echo.Context) error {
			start := time.Now()
			m.inFlight.Inc()
			defer m.inFlight.Dec()
			err := next(c)
			status := 0
			if resp, _ := echo.UnwrapResponse(c.Response()); resp != nil {
				status = resp.Status
			}
			if err != nil {
				status = web.StatusOf(err)
				if errors.Is(err, web.ErrBusy) {
					m.shed.Inc()
				}
			}
			route, method := web.RouteLabel(c), web.MethodLabel(c.Request().Method)
			m.requests.WithLabelValues(route, method, statusClass(status)).Inc()
			m.duration.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
			return err
		}
	}
}

func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}

// SecurityEvent counts ev; it is the emitter's sink (secevent.NewEmitter).
func (m *Metrics) SecurityEvent(ev secevent.Event) {
	if m == nil {
		return
	}
	m.security.WithLabelValues(string(ev.Kind), string(ev.Reason)).Inc()
}

// Limiter returns l counting its decisions by policy. A check (cost 0) and
// a spend (cost > 0) are decisions; a refund (cost < 0) is not.
func (m *Metrics) Limiter(l web.Limiter) web.Limiter {
	if m == nil {
		return l
	}
	return &countingLimiter{Limiter: l, decisions: m.limits}
}

type countingLimiter struct {
	web.Limiter
	decisions *prometheus.CounterVec
}

func (c *countingLimiter) Allow(ctx context.Context, key string, p web.Policy, cost int) (web.Decision, error) {
	d, err := c.Limiter.Allow(ctx, key, p, cost)
	if err == nil && cost >= 0 {
		c.decisions.WithLabelValues(p.Name, decision(d.Allowed)).Inc()
	}
	return d, err
}

func (c *countingLimiter) Attempt(ctx context.Context, key string, p web.BackoffPolicy) (time.Duration, error) {
	wait, err := c.Limiter.Attempt(ctx, key, p)
	if err == nil {
		c.decisions.WithLabelValues(p.Name, decision(wait == 0)).Inc()
	}
	return wait, err
}

func decision(allowed bool) string {
	if allowed {
		return "allowed"
	}
	return "refused"
}

// WatchLimiter exports the shared limiter's health: the decisions taken
// without it (answered by this instance, or refused fail-closed) and
// whether it is being skipped now (docs/04-rate-limiting.md).
func (m *Metrics) WatchLimiter(r *web.ResilientLimiter) error {
	if m == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "ratelimit", Name: "shared_fallbacks_total",
			Help: "Rate-limit decisions answered by this instance's limiter because the shared one (Redis) failed.",
		}, func() float64 { return float64(r.Stats().Fallbacks) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "ratelimit", Name: "shared_refusals_total",
			Help: "Requests refused (503) by fail-closed policies because the shared limiter failed.",
		}, func() float64 { return float64(r.Stats().Refusals) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: Namespace, Subsystem: "ratelimit", Name: "shared_degraded",
			Help: "1 while the shared limiter is being skipped after a failure.",
		}, func() float64 {
			if r.Stats().Degraded {
				return 1
			}
			return 0
		}),
	} {
		if err := m.reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
