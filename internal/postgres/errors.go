package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Unavailable reports whether err means the database could not be reached,
// went away, or did not answer in time, rather than that the request was
// wrong or the code is broken. Such a failure is temporary: the same request
// may well succeed in a moment, so the client deserves a 503 with
// Retry-After, not the 500 that says "bug" (and pages someone). The app maps
// it once for every route (internal/app/dberrors.go), so no store has to
// remember to.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	// The request's deadline passed, in a query or while waiting for a
	// pooled connection.
	if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return unavailableCode(pgErr.Code)
	}
	// The connection failed: the dial was refused (the server is down or
	// restarting), the server closed it (io.EOF), the network reset or
	// timed it out mid-query (net.Error), or the driver had already closed
	// it after such a failure.
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	if errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, pgconn.ErrConnClosed) {
		return true
	}
	// An error the driver raised before sending anything: nothing reached
	// the server, so nothing can have been done twice by a retry.
	return pgconn.SafeToRetry(err)
}

// unavailableCode picks the SQLSTATEs that say "not now" rather than "not
// this" (https://www.postgresql.org/docs/current/errcodes-appendix.html).
func unavailableCode(code string) bool {
	if strings.HasPrefix(code, "08") { // connection exception
		return true
	}
	switch code {
	case "57014", // query_canceled: statement_timeout cut a statement off
		"57P01", // admin_shutdown: the server is stopping or restarting
		"57P02", // crash_shutdown
		"57P03", // cannot_connect_now: the server is starting up
		"53300", // too_many_connections
		"55P03": // lock_not_available: lock_timeout
		return true
	}
	return false
}
