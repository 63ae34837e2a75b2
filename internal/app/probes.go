package app

import "github.com/labstack/echo/v5"

// unlessProbe runs mw on every route but the health probes. A load
// balancer probes from one address, often the same one that carries a
// flood, and a 429 there reads as "down": the instance would be pulled out
// of rotation, or restarted, for being attacked. The probes do no work an
// attacker could multiply (liveness touches nothing, readiness one ping of
// the pool), so they answer before any per-address limit.
func unlessProbe(mw echo.MiddlewareFunc) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		limited := mw(next)
		return func(c *echo.Context) error {
			if isProbe(c) {
				return next(c)
			}
			return limited(c)
		}
	}
}

func isProbe(c *echo.Context) bool {
	return c.Request().Method == "GET" && (c.Path() == "/healthz" || c.Path() == "/readyz")
}
