package web

import (
	"net/http"

	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"
)

// CORS allows cross-origin calls only from the exact origins configured.
// With none configured no CORS header is ever sent, so browsers keep every
// other site from reading responses. Origins are compared whole (scheme, host
// and port), so "null", https://app.example.com.evil.test and
// http://app.example.com (a scheme downgrade) never match
// https://app.example.com.
func CORS(allowedOrigins []string) echo.MiddlewareFunc {
	if len(allowedOrigins) == 0 {
		return func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c *echo.Context) error {
				// Caches must still key on Origin, or a response computed
				// for one origin could be served to another.
				c.Response().Header().Add(echo.HeaderVary, echo.HeaderOrigin)
				return next(c)
			}
		}
	}
	return middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOrigins: allowedOrigins,
		AllowMethods: []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete},
		// Listed explicitly: left empty, echo would echo back whatever
		// headers the preflight asks for.
		AllowHeaders:     []string{echo.HeaderAuthorization, echo.HeaderContentType},
		ExposeHeaders:    []string{HeaderRequestID, "Retry-After", "RateLimit", "RateLimit-Policy"},
		AllowCredentials: true,
		MaxAge:           600,
	})
}
