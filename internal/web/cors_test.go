package web_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/web"
)

// corsHeaders are the response headers a browser's CORS check reads.
type corsHeaders struct {
	AllowOrigin      string
	AllowCredentials string
	AllowMethods     string
	AllowHeaders     string
	ExposeHeaders    string
	MaxAge           string
}

func corsRequest(t *testing.T, allowed []string, method, origin string, extra map[string]string) (corsHeaders, http.Header) {
	t.Helper()
	e := echo.New()
	e.Use(web.CORS(allowed))
	e.GET("/api/v1/users/me", func(c *echo.Context) error { return c.String(http.StatusOK, "{}") })
	e.POST("/api/v1/users/me", func(c *echo.Context) error { return c.String(http.StatusOK, "{}") })

	req := httptest.NewRequest(method, "/api/v1/users/me", nil)
	if origin != "" {
		req.Header.Set(echo.HeaderOrigin, origin)
	}
	for k, v := range extra {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	h := rec.Header()
	return corsHeaders{
		AllowOrigin:      h.Get(echo.HeaderAccessControlAllowOrigin),
		AllowCredentials: h.Get(echo.HeaderAccessControlAllowCredentials),
		AllowMethods:     h.Get(echo.HeaderAccessControlAllowMethods),
		AllowHeaders:     h.Get(echo.HeaderAccessControlAllowHeaders),
		ExposeHeaders:    h.Get(echo.HeaderAccessControlExposeHeaders),
		MaxAge:           h.Get(echo.HeaderAccessControlMaxAge),
	}, h
}

func preflight(requestHeaders string) map[string]string {
	return map[string]string{
		echo.HeaderAccessControlRequestMethod:  http.MethodPost,
		echo.HeaderAccessControlRequestHeaders: requestHeaders,
	}
}

func assertVaryOrigin(t *testing.T, h http.Header) {
	t.Helper()
	if !slices.Contains(h.Values(echo.HeaderVary), echo.HeaderOrigin) {
		t.Errorf("Vary = %q, want it to include Origin", h.Values(echo.HeaderVary))
	}
}

func TestCORSNoneConfigured(t *testing.T) {
	for _, origin := range []string{"https://evil.test", "null", "https://app.example.com"} {
		for _, method := range []string{http.MethodGet, http.MethodOptions} {
			t.Run(method+" "+origin, func(t *testing.T) {
				got, h := corsRequest(t, nil, method, origin, preflight("Authorization"))
				if diff := cmp.Diff(corsHeaders{}, got); diff != "" {
					t.Errorf("CORS headers with no origins configured (-want +got):\n%s", diff)
				}
				assertVaryOrigin(t, h)
			})
		}
	}
}

func TestCORSAllowedOrigin(t *testing.T) {
	allowed := []string{"https://app.example.com"}

	t.Run("simple request", func(t *testing.T) {
		got, h := corsRequest(t, allowed, http.MethodGet, "https://app.example.com", nil)
		want := corsHeaders{
			AllowOrigin:      "https://app.example.com",
			AllowCredentials: "true",
			ExposeHeaders:    "X-Request-Id,Retry-After,RateLimit,RateLimit-Policy",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("CORS headers (-want +got):\n%s", diff)
		}
		assertVaryOrigin(t, h)
	})

	t.Run("preflight lists only the configured methods and headers", func(t *testing.T) {
		got, h := corsRequest(t, allowed, http.MethodOptions, "https://app.example.com", preflight("X-Evil, Content-Type"))
		want := corsHeaders{
			AllowOrigin:      "https://app.example.com",
			AllowCredentials: "true",
			AllowMethods:     "GET,POST,PATCH,DELETE",
			AllowHeaders:     "Authorization,Content-Type", // X-Evil is not reflected
			MaxAge:           "600",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("preflight headers (-want +got):\n%s", diff)
		}
		assertVaryOrigin(t, h)
	})
}

func TestCORSRefusesLookalikeOrigins(t *testing.T) {
	allowed := []string{"https://app.example.com"}
	for _, origin := range []string{
		"null",
		"https://app.example.com.evil.test",
		"https://evilapp.example.com",
		"https://evil-app.example.com",
		"http://app.example.com", // scheme downgrade
		"https://app.example.com:8443",
		"https://app.example.co",
		"https://example.com",
		"https://app.example.com/",
	} {
		for _, method := range []string{http.MethodGet, http.MethodOptions} {
			t.Run(method+" "+origin, func(t *testing.T) {
				got, h := corsRequest(t, allowed, method, origin, preflight("Authorization"))
				if diff := cmp.Diff(corsHeaders{}, got); diff != "" {
					t.Errorf("CORS headers for a foreign origin (-want +got):\n%s", diff)
				}
				assertVaryOrigin(t, h)
			})
		}
	}
}
