package web

import (
	"context"
	"time"

	"github.com/labstack/echo/v5"
)

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
func Deadline(d time.Duration, skip func(*echo.Context) bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			if skip != nil && skip(c) {
				return next(c)
			}
			ctx, cancel := context.WithTimeout(c.Request().Context(), d)
			defer cancel()
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}
