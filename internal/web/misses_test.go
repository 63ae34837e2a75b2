package web

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/web/secevent"
)

// missesServer is an {id} route behind SecurityEvents, LimitMisses and a
// resolver that finds only own; the log receives the events.
func missesServer(t *testing.T, p Policy) (*echo.Echo, uuid.UUID, *bytes.Buffer) {
	t.Helper()
	var log bytes.Buffer
	emitter := secevent.NewEmitter(slog.New(slog.NewJSONHandler(&log, nil)))
	own := uuid.New()
	const errMissing = NotFound("not found")
	limiter, _ := newClockedLimiter()
	res := NewResource[uuid.UUID]("thing")
	find := func(_ *echo.Context, id uuid.UUID) (uuid.UUID, error) {
		if id != own {
			return uuid.Nil, errMissing
		}
		return id, nil
	}
	e := echo.New()
	e.HTTPErrorHandler = ErrorHandler(slog.New(slog.DiscardHandler))
	e.Use(RequestIDMiddleware(), SecurityEvents(emitter))
	e.GET("/things/:id", func(c *echo.Context) error { return c.String(http.StatusOK, res.Get(c).String()) },
		LimitMisses(limiter, p, func(*echo.Context) string { return "user:1" }), Resolve(res, errMissing, find))
	return e, own, &log
}

func get(e *echo.Echo, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

func TestLimitMisses(t *testing.T) {
	p := Policy{Name: "misses", Burst: 5, Period: time.Minute}

	t.Run("a prober is refused once the misses are used up, and reported once", func(t *testing.T) {
		e, own, log := missesServer(t, p)
		for i := range p.Burst {
			rec := get(e, "/things/"+uuid.NewString())
			if rec.Code != http.StatusNotFound {
				t.Fatalf("miss %d: %d, want 404", i+1, rec.Code)
			}
			if !strings.Contains(rec.Header().Get("RateLimit"), `"misses"`) {
				t.Errorf("miss %d carries no RateLimit header of the misses policy: %v", i+1, rec.Header())
			}
		}
		for _, path := range []string{"/things/" + uuid.NewString(), "/things/" + own.String()} {
			rec := get(e, path)
			if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" || rec.Header().Get("RateLimit-Policy") == "" {
				t.Fatalf("after the misses, %s: %d %v, want 429 with RateLimit headers and Retry-After", path, rec.Code, rec.Header())
			}
		}
		kinds := eventKinds(t, log)
		if got := kinds[string(secevent.Enumeration)]; got != 1 {
			t.Errorf("%d enumeration events, want 1 (the miss that used the allowance up): %v", got, kinds)
		}
		if got := kinds[string(secevent.RateLimited)]; got != 2 {
			t.Errorf("%d rate_limited events, want one per 429: %v", got, kinds)
		}
	})

	t.Run("hits and malformed ids are no misses", func(t *testing.T) {
		e, own, log := missesServer(t, p)
		for range 3 * p.Burst {
			if rec := get(e, "/things/"+own.String()); rec.Code != http.StatusOK {
				t.Fatalf("own thing: %d", rec.Code)
			}
			if rec := get(e, "/things/not-an-id"); rec.Code != http.StatusNotFound {
				t.Fatalf("malformed id: %d", rec.Code)
			}
		}
		// A few stale links, fewer than the allowance.
		for range p.Burst - 1 {
			get(e, "/things/"+uuid.NewString())
		}
		if rec := get(e, "/things/"+own.String()); rec.Code != http.StatusOK {
			t.Fatalf("after a few stale links: %d, want 200", rec.Code)
		}
		if rec := get(e, "/things/"+own.String()); rec.Header().Get("RateLimit") != "" {
			t.Errorf("a hit carries the misses policy's headers: %v", rec.Header())
		}
		if kinds := eventKinds(t, log); len(kinds) != 0 {
			t.Errorf("legitimate use raised security events: %v", kinds)
		}
	})
}

// eventKinds counts the security events in a JSON log by kind, and checks
// each carries the request's id and route template.
func eventKinds(t *testing.T, log *bytes.Buffer) map[string]int {
	t.Helper()
	out := map[string]int{}
	for line := range strings.SplitSeq(log.String(), "\n") {
		var ev map[string]any
		if json.Unmarshal([]byte(line), &ev) != nil || ev["event"] != "security" {
			continue
		}
		if ev["request_id"] == "" || ev["route"] != "/things/:id" || ev["reason"] == "" {
			t.Errorf("event without its request's fields: %s", line)
		}
		out[ev["kind"].(string)]++
	}
	return out
}

// An emitter-less context (a unit test, a tool) emits nothing and does not fail.
func TestEmitWithoutRequest(t *testing.T) {
	secevent.Emit(t.Context(), secevent.Lockout, "x")
	var nilEmitter *secevent.Emitter
	nilEmitter.Emit(t.Context(), secevent.Event{Kind: secevent.ConfigRefused})
}
