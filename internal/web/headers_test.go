package web_test

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/web"
)

func securityHeaders(t *testing.T, path string, tlsConn bool, headers map[string]string) http.Header {
	t.Helper()
	e := echo.New()
	e.HTTPErrorHandler = web.ErrorHandler(slog.New(slog.DiscardHandler))
	// Untrusted peers: X-Forwarded-Proto must not switch HSTS on.
	e.IPExtractor, e.SchemeExtractor = web.ClientIP(nil)
	e.Use(web.SecurityHeaders())
	e.GET("/ok", func(c *echo.Context) error { return c.JSON(http.StatusOK, map[string]string{}) })
	e.GET("/fail", func(*echo.Context) error { return web.Forbidden("no") })

	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.RemoteAddr = "127.0.0.1:40000"
	if tlsConn {
		req.TLS = &tls.ConnectionState{}
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec.Header()
}

func TestSecurityHeaders(t *testing.T) {
	// Error responses must carry the headers too: the middleware sets them
	// before the handler runs.
	for _, path := range []string{"/ok", "/fail"} {
		t.Run(path, func(t *testing.T) {
			h := securityHeaders(t, path, false, nil)
			exact := map[string]string{
				"X-Content-Type-Options": "nosniff",
				"Cache-Control":          "no-store",
				"X-Frame-Options":        "DENY",
				"Referrer-Policy":        "no-referrer",
			}
			for name, want := range exact {
				if got := h.Get(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			csp := h.Get("Content-Security-Policy")
			for _, directive := range []string{"default-src 'none'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, directive) {
					t.Errorf("Content-Security-Policy = %q, want it to contain %q", csp, directive)
				}
			}
			for _, absent := range []string{"X-XSS-Protection", "Strict-Transport-Security"} {
				if v, ok := h[http.CanonicalHeaderKey(absent)]; ok {
					t.Errorf("%s = %q over plain HTTP, want it absent", absent, v)
				}
			}
		})
	}
}

func TestSecurityHeadersHSTS(t *testing.T) {
	tests := []struct {
		name    string
		tls     bool
		headers map[string]string
		want    bool
	}{
		{name: "plain HTTP", want: false},
		{name: "plain HTTP claiming https from an untrusted peer", headers: map[string]string{"X-Forwarded-Proto": "https"}, want: false},
		{name: "TLS", tls: true, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := securityHeaders(t, "/ok", tt.tls, tt.headers).Get("Strict-Transport-Security")
			if has := got != ""; has != tt.want {
				t.Fatalf("Strict-Transport-Security = %q, want present = %v", got, tt.want)
			}
			if tt.want && !strings.Contains(got, "max-age=63072000") {
				t.Errorf("Strict-Transport-Security = %q, want a two-year max-age", got)
			}
		})
	}
}
