package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrSessionEnded is a statement refused because the session of the
// request's access token has ended: logged out, its refresh family
// revoked, or its token version no longer the user's (Identity.InSession).
// The caller must be answered as any other refused token is, with a 401.
var ErrSessionEnded = errors.New("the access token's session has ended") //nolint:gochecknoglobals // sentinel.

// sessionEndedCode is the SQLSTATE bulwark_identify raises for an ended
// session (db/migrations/00008_session_in_identity.sql). No condition of
// PostgreSQL's uses class BW; 401 is the HTTP status it becomes.
const sessionEndedCode = "BW401"

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
	// restarting), or the driver had already closed it after a failure.
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) || errors.Is(err, pgconn.ErrConnClosed) {
		return true
	}
	// The rest must come from the driver: an io.EOF or a network error
	// from reading the client's own request (a cut-short upload, a body
	// that missed its read deadline) is the client's doing, and must not
	// answer "database unavailable, retry". pgconn's errors are the ones
	// that say whether a retry is safe.
	var driverErr interface{ SafeToRetry() bool }
	if !errors.As(err, &driverErr) {
		return false
	}
	// The server closed the connection (io.EOF) or the network reset or
	// timed it out mid-query (net.Error); or the driver failed before
	// sending anything, so nothing can have been done twice by a retry.
	// A failure after a COMMIT was sent is the one ambiguous case: it may
	// have committed: the client is told to retry (503), and a retry with
	// an Idempotency-Key cannot create a second order
	// (docs/12-business-flows.md).
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || driverErr.SafeToRetry()
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
