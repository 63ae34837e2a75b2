package attack

import (
	"context"
	"net/http"
	"strings"
)

// Security misconfiguration (OWASP API8:2023): every response, errors
// included, carries the headers that stop browsers from sniffing, framing or
// caching it, and the server does not announce itself.
func misconfigurationAttacks() []Attack {
	return []Attack{{
		ID: "misconfig/security-headers", Issue: "misconfig", OWASP: "API8:2023", CWE: "CWE-693",
		Story: "Look for missing nosniff, no-store, frame-ancestors and version banners, on success and on errors.",
		Run:   securityHeaders,
	}}
}

func securityHeaders(ctx context.Context, t *Target) (Result, error) {
	probes := []request{
		{method: http.MethodGet, path: "/healthz"},
		{method: http.MethodGet, path: "/api/v1/users/me"},                  // 401
		{method: http.MethodGet, path: "/no-such-route"},                    // 404
		{method: http.MethodTrace, path: "/api/v1/users/me"},                // verb not served
		{method: http.MethodPost, path: "/api/v1/auth/login", body: `{"x"`}, // 400
	}
	for _, r := range probes {
		x, err := t.send(ctx, r)
		if err != nil {
			return Result{}, err
		}
		if r.method == http.MethodTrace && x.status < 400 {
			return exploited("TRACE answered %d", x.status)
		}
		h := x.header
		switch {
		case h.Get("X-Content-Type-Options") != "nosniff":
			return exploited("no X-Content-Type-Options: nosniff: %s", x)
		case !strings.Contains(h.Get("Cache-Control"), "no-store"):
			return exploited("no Cache-Control: no-store: %s", x)
		case !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'"):
			return exploited("no CSP frame-ancestors 'none': %s", x)
		case h.Get("Referrer-Policy") == "":
			return exploited("no Referrer-Policy: %s", x)
		case h.Get("X-Powered-By") != "" || strings.ContainsAny(h.Get("Server"), "0123456789"):
			return exploited("server announces itself (%q, %q): %s", h.Get("Server"), h.Get("X-Powered-By"), x)
		case h.Get("X-Xss-Protection") != "":
			return exploited("legacy X-XSS-Protection set: %s", x)
		}
	}
	return blocked("%d responses (200, 401, 404, 405, 400) all carry nosniff, no-store, frame-ancestors 'none' and Referrer-Policy, and no banner", len(probes))
}
