package web

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v5"
)

// readGrace is how much later than the request's deadline its body read
// gives up (see Deadline).
const readGrace = time.Second

// Deadline gives every request's context a deadline of d, so no request
// waits longer than that for a pooled database connection, a query or any
// other call that honours its context; the database error that results is
// answered 503 (internal/app/dberrors.go). Without it a request stuck
// behind a lock or a slow dependency would hold its goroutine, its memory
// and its connection for as long as the client cares to wait.
//
// Requests for which skip returns true keep the server's context: uploads
// and downloads move up to gigabytes and get deadlines in proportion to
// their size instead (internal/files/handler.go).
//
// bodyBudget is how long the server's own read timeouts may still allow
// for a body once the headers are in (HTTP_READ_TIMEOUT minus
// HTTP_READ_HEADER_TIMEOUT): the body read is tied to d only when that is
// sooner, so Deadline never extends what the server enforces.
func Deadline(d, bodyBudget time.Duration, skip func(*echo.Context) bool) echo.MiddlewareFunc {
	tieRead := d+readGrace <= bodyBudget
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			if skip != nil && skip(c) {
				return next(c)
			}
			ctx, cancel := context.WithTimeout(c.Request().Context(), d)
			defer cancel()
			c.SetRequest(c.Request().WithContext(ctx))
			// The handler reads the body from the connection, and that read
			// does not watch the context: a client trickling its body
			// would hold the request, and its load-shedding slot (Shed),
			// until HTTP_READ_TIMEOUT, and a few accounts could hold every
			// slot. So the connection's read deadline follows the request's,
			// a moment later, so that a request that ends at d ends by its
			// context (and answers 503), never by a failed read. net/http
			// sets the deadline afresh for the next request on the
			// connection. A writer that cannot set it leaves the server's
			// own read timeout in place.
			if tieRead {
				_ = http.NewResponseController(c.Response()).SetReadDeadline(time.Now().Add(d + readGrace))
			}
			return next(c)
		}
	}
}
