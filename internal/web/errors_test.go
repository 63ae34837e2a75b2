package web_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"

	"github.com/bulwark-dev/bulwark/internal/web"
)

const secretSQL = "pq: secret SQL text SELECT password_hash FROM users"

// newErrorEcho wires the middleware the way app/routes.go does and returns
// the log buffer, so tests can see what was logged as well as what was sent.
func newErrorEcho(t *testing.T) (*echo.Echo, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	e := echo.New()
	e.HTTPErrorHandler = web.ErrorHandler(slog.New(slog.NewJSONHandler(&logs, nil)))
	e.Use(web.RequestIDMiddleware(), middleware.Recover())
	e.GET("/internal", func(*echo.Context) error { return errors.New(secretSQL) })
	e.GET("/wrapped-internal", func(*echo.Context) error {
		return fmt.Errorf("load order 42: %w", errors.New(secretSQL))
	})
	e.GET("/not-found", func(*echo.Context) error {
		return fmt.Errorf("load order 42 for user 7: %w", web.NotFound("order not found"))
	})
	e.GET("/invalid", func(*echo.Context) error { return fmt.Errorf("parse: %w", web.Invalid("cursor is malformed")) })
	e.GET("/unauthorized", func(*echo.Context) error { return web.Unauthorized("authentication required") })
	e.GET("/forbidden", func(*echo.Context) error { return web.Forbidden("not allowed") })
	e.GET("/conflict", func(*echo.Context) error { return web.Conflict("email already registered") })
	e.GET("/unavailable", func(*echo.Context) error {
		return fmt.Errorf("ping %s: %w", secretSQL, web.Unavailable("database unavailable"))
	})
	e.GET("/too-many", func(*echo.Context) error {
		return fmt.Errorf("login limit: %w", &web.TooManyRequests{RetryAfter: 2500 * time.Millisecond})
	})
	e.GET("/too-many-sub-second", func(*echo.Context) error { return &web.TooManyRequests{RetryAfter: time.Millisecond} })
	e.GET("/validation", func(*echo.Context) error {
		return &web.ValidationError{Fields: []web.FieldError{{Field: "items[1].quantity", Message: "must be at least 1"}}}
	})
	e.GET("/too-large", func(*echo.Context) error {
		return fmt.Errorf("upload over %d bytes: %w", 10, web.TooLarge("The file is too large."))
	})
	e.GET("/echo-error", func(*echo.Context) error {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, secretSQL)
	})
	e.GET("/boom", func(*echo.Context) error { panic("panic text: " + secretSQL) })
	return e, &logs
}

func serve(e *echo.Echo, method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func TestErrorHandlerMapsErrors(t *testing.T) {
	e, _ := newErrorEcho(t)
	tests := []struct {
		path       string
		want       web.Problem // RequestID is checked separately
		retryAfter string
	}{
		{path: "/internal", want: web.Problem{Type: "about:blank", Title: "Internal Server Error", Status: 500, Instance: "/internal"}},
		{path: "/wrapped-internal", want: web.Problem{Type: "about:blank", Title: "Internal Server Error", Status: 500, Instance: "/wrapped-internal"}},
		{path: "/boom", want: web.Problem{Type: "about:blank", Title: "Internal Server Error", Status: 500, Instance: "/boom"}},
		{path: "/not-found", want: web.Problem{Type: "about:blank", Title: "Not Found", Status: 404, Detail: "order not found", Instance: "/not-found"}},
		{path: "/invalid", want: web.Problem{Type: "about:blank", Title: "Bad Request", Status: 400, Detail: "cursor is malformed", Instance: "/invalid"}},
		{path: "/unauthorized", want: web.Problem{Type: "about:blank", Title: "Unauthorized", Status: 401, Detail: "authentication required", Instance: "/unauthorized"}},
		{path: "/forbidden", want: web.Problem{Type: "about:blank", Title: "Forbidden", Status: 403, Detail: "not allowed", Instance: "/forbidden"}},
		{path: "/conflict", want: web.Problem{Type: "about:blank", Title: "Conflict", Status: 409, Detail: "email already registered", Instance: "/conflict"}},
		{
			path:       "/unavailable",
			want:       web.Problem{Type: "about:blank", Title: "Service Unavailable", Status: 503, Detail: "database unavailable", Instance: "/unavailable"},
			retryAfter: "1",
		},
		{
			path:       "/too-many",
			want:       web.Problem{Type: "about:blank", Title: "Too Many Requests", Status: 429, Detail: "Too many requests; retry after the time in Retry-After.", Instance: "/too-many"},
			retryAfter: "3", // 2.5s rounds up: retrying after 2s would be refused again
		},
		{
			path:       "/too-many-sub-second",
			want:       web.Problem{Type: "about:blank", Title: "Too Many Requests", Status: 429, Detail: "Too many requests; retry after the time in Retry-After.", Instance: "/too-many-sub-second"},
			retryAfter: "1",
		},
		{
			path: "/validation",
			want: web.Problem{
				Type: "about:blank", Title: "Bad Request", Status: 400, Detail: "The request has invalid fields.", Instance: "/validation",
				Errors: []web.FieldError{{Field: "items[1].quantity", Message: "must be at least 1"}},
			},
		},
		{path: "/too-large", want: web.Problem{Type: "about:blank", Title: "Request Entity Too Large", Status: 413, Detail: "The file is too large.", Instance: "/too-large"}},
		{path: "/echo-error", want: web.Problem{Type: "about:blank", Title: "Request Entity Too Large", Status: 413, Detail: "Request Entity Too Large.", Instance: "/echo-error"}},
		{path: "/no-such-route", want: web.Problem{Type: "about:blank", Title: "Not Found", Status: 404, Detail: "Not Found.", Instance: "/no-such-route"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := serve(e, http.MethodGet, tt.path)
			raw := rec.Body.String()
			got := decodeProblem(t, rec)
			if rec.Code != tt.want.Status {
				t.Errorf("HTTP status = %d, want %d", rec.Code, tt.want.Status)
			}
			if id := rec.Header().Get(web.HeaderRequestID); id == "" || got.RequestID != id {
				t.Errorf("request_id = %q, X-Request-Id = %q; want equal and non-empty", got.RequestID, id)
			}
			got.RequestID = ""
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problem (-want +got):\n%s", diff)
			}
			if h := rec.Header().Get("Retry-After"); h != tt.retryAfter {
				t.Errorf("Retry-After = %q, want %q", h, tt.retryAfter)
			}
			if h := rec.Header().Get("Cache-Control"); h != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", h)
			}
			for _, leak := range []string{"secret SQL", "password_hash", "pq:", "order 42", "user 7", "goroutine", ".go:", "panic", "PANIC"} {
				if strings.Contains(raw, leak) {
					t.Errorf("client body contains %q: %s", leak, raw)
				}
			}
		})
	}
}

// TestErrorHandlerLogsWhatItHides: the text kept from the client is what the
// operator needs, so it must reach the log with the same request id.
func TestErrorHandlerLogsWhatItHides(t *testing.T) {
	tests := []struct {
		path  string
		inLog []string
		level string
	}{
		{path: "/internal", inLog: []string{secretSQL}, level: "ERROR"},
		{path: "/wrapped-internal", inLog: []string{"load order 42", secretSQL}, level: "ERROR"},
		{path: "/boom", inLog: []string{"panic text: " + secretSQL, "goroutine"}, level: "ERROR"},
		{path: "/not-found", inLog: []string{"load order 42 for user 7", "order not found"}, level: "INFO"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			e, logs := newErrorEcho(t)
			rec := serve(e, http.MethodGet, tt.path)
			id := rec.Header().Get(web.HeaderRequestID)

			var entry struct {
				Level     string `json:"level"`
				RequestID string `json:"request_id"`
				Error     string `json:"error"`
			}
			if err := jsonUnmarshalLine(logs.Bytes(), &entry); err != nil {
				t.Fatalf("log is not one JSON line: %v: %s", err, logs)
			}
			if entry.RequestID != id || entry.Level != tt.level {
				t.Errorf("log entry level=%q request_id=%q, want level=%q request_id=%q", entry.Level, entry.RequestID, tt.level, id)
			}
			for _, s := range tt.inLog {
				if !strings.Contains(entry.Error, s) {
					t.Errorf("logged error %q lacks %q", entry.Error, s)
				}
			}
		})
	}
}

func TestErrorHandlerHeadHasNoBody(t *testing.T) {
	e, _ := newErrorEcho(t)
	e.HEAD("/internal", func(*echo.Context) error { return errors.New(secretSQL) })
	rec := serve(e, http.MethodHead, "/internal")
	if rec.Code != http.StatusInternalServerError || rec.Body.Len() != 0 {
		t.Errorf("HEAD: status %d, body %q; want 500 and no body", rec.Code, rec.Body)
	}
}

func TestErrorHandlerAfterResponseStarted(t *testing.T) {
	e, logs := newErrorEcho(t)
	e.GET("/half", func(c *echo.Context) error {
		if err := c.String(http.StatusOK, "partial"); err != nil {
			return err
		}
		return errors.New(secretSQL)
	})
	rec := serve(e, http.MethodGet, "/half")
	if rec.Code != http.StatusOK || rec.Body.String() != "partial" {
		t.Errorf("got %d %q; want the handler's own 200 partial, untouched", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), "password_hash") {
		t.Errorf("error after commit was not logged: %s", logs)
	}
}

func jsonUnmarshalLine(b []byte, v any) error {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) != 1 {
		return fmt.Errorf("%d log lines", len(lines))
	}
	return json.Unmarshal(lines[0], v)
}
