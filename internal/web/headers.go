package web

import (
	"github.com/labstack/echo/v5"
)

// SecurityHeaders sets the headers every API response carries. They are set
// before the handler runs so that error responses get them too.
func SecurityHeaders() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			h := c.Response().Header()
			// Browsers must not guess a type: a JSON body sniffed as HTML is XSS.
			h.Set("X-Content-Type-Options", "nosniff")
			// API responses hold personal data; no shared or browser cache may keep them.
			h.Set("Cache-Control", "no-store")
			// JSON is never a page: no scripts, no framing (clickjacking), no plugins.
			h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Cross-Origin-Resource-Policy", "same-origin")
			h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
			// HSTS only means something over TLS; sent over plain HTTP
			// browsers ignore it, so it is set only when the request was
			// TLS (directly or via a trusted proxy, see SchemeExtractor).
			if c.Scheme() == "https" {
				h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
			}
			// X-XSS-Protection is deliberately absent: the legacy filter it
			// enables has itself been used to leak data, and modern browsers
			// removed it (OWASP Secure Headers Project).
			return next(c)
		}
	}
}
