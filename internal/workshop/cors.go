//go:build workshop

package workshop

import (
	"net/http"
	"regexp"

	"github.com/labstack/echo/v5"
)

// CORS switches between the secure allowlist and two variants.
//
// Vulnerable: reflect whatever Origin arrives, with credentials. Any site
// the victim visits can read their API responses.
//
// Naive: "check" the origin with a regular expression written from the
// allowed origin as text. The dot matches any character and nothing anchors
// the end, so https://app.example.com.evil.test passes.
// Secure code: internal/web/cors.go.
func CORS(b *Board, secure echo.MiddlewareFunc) echo.MiddlewareFunc {
	naivePattern := regexp.MustCompile(`https://app.example.com`) // the bug is the point
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		secureNext := secure(next)
		return func(c *echo.Context) error {
			origin := c.Request().Header.Get("Origin")
			allow := false
			switch b.Get("cors") {
			case Vulnerable:
				allow = origin != ""
			case Naive:
				allow = naivePattern.MatchString(origin)
			default:
				return secureNext(c)
			}
			if allow {
				h := c.Response().Header()
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Allow-Credentials", "true")
				h.Add("Vary", "Origin")
				if c.Request().Method == http.MethodOptions {
					h.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE")
					h.Set("Access-Control-Allow-Headers", c.Request().Header.Get("Access-Control-Request-Headers"))
					return c.NoContent(http.StatusNoContent)
				}
			}
			return next(c)
		}
	}
}
