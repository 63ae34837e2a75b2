package web

import (
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/web/secevent"
)

// SecurityEvents gives each request's context the emitter of security
// events and a view of the request, so that code deeper down (a limit, a
// resolver, a handler) emits an event by naming only its kind and reason
// (secevent.Emit). It runs after RequestIDMiddleware.
func SecurityEvents(e *secevent.Emitter) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			req := c.Request()
			origin := func() secevent.Origin {
				// Read when the event happens: by then the route is matched
				// and, behind authentication, the user is known.
				return secevent.Origin{
					RequestID: RequestID(c), UserID: UserIDForLog(c), ClientIP: c.RealIP(),
					Method: MethodLabel(req.Method), Route: RouteLabel(c),
				}
			}
			c.SetRequest(req.WithContext(secevent.WithRequest(req.Context(), e, origin)))
			return next(c)
		}
	}
}

// RouteLabel is the request's route template for logs and metrics, never
// its path: a path holds ids and whatever an attacker typed.
func RouteLabel(c *echo.Context) string {
	if p := c.Path(); p != "" {
		return p
	}
	return "unmatched"
}

// MethodLabel is the request's method if it is a standard one, else
// "OTHER": a client can send any token as a method, and each would be a
// new series in the metrics.
func MethodLabel(m string) string {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE":
		return m
	}
	return "OTHER"
}
