package app

import (
	"fmt"

	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/web"
)

// errDatabaseUnavailable is what a client is told when the database is down,
// restarting or too slow. It names no cause: the driver's text (addresses,
// SQLSTATEs, "connection refused") stays in the log.
const errDatabaseUnavailable = web.Unavailable("The service is temporarily unavailable; retry shortly.")

// databaseUnavailable marks database outages and timeouts, from any handler
// or middleware, as 503 with Retry-After (postgres.Unavailable says which).
// Without it they fall through the error handler's table to 500, which
// tells clients and monitoring that the service is broken when it is only
// waiting for its database, and tells well-behaved clients not to retry
// when a retry in a second would succeed. One middleware does it for every
// route, so no store can forget it.
func databaseUnavailable(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		err := next(c)
		if postgres.Unavailable(err) {
			return fmt.Errorf("%w: %w", err, errDatabaseUnavailable)
		}
		return err
	}
}
