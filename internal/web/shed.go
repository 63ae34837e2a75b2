package web

import "github.com/labstack/echo/v5"

// ErrBusy is the answer to a request refused by Shed.
const ErrBusy = Unavailable("The server is busy; retry shortly.")

// Shed bounds the requests the server works on at once to limit and refuses
// the rest at once with 503 and Retry-After (load shedding, OWASP API4).
//
// Rate limits cap each client; they do not cap the sum of all clients, and
// without a cap on that sum every request past what the database can serve
// queues for a pooled connection, so latency grows for everyone until
// requests time out, and memory grows with the queue. Refusing the excess
// immediately keeps the admitted requests as fast as the server can make
// them, and tells the refused clients when to come back.
//
// Requests for which skip returns true are neither counted nor refused: a
// liveness probe must not fail because the service is busy, or the
// orchestrator would restart a healthy instance at the worst moment.
func Shed(limit int, skip func(*echo.Context) bool) echo.MiddlewareFunc {
	slots := make(chan struct{}, limit)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			if skip != nil && skip(c) {
				return next(c)
			}
			select {
			case slots <- struct{}{}:
			default:
				// Never wait for a slot: a queue here would only move the
				// latency from the pool to this channel.
				return ErrBusy
			}
			defer func() { <-slots }()
			return next(c)
		}
	}
}
