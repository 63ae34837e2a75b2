package postgres

import (
	"errors"
	"net"
	"strings"
)

// UnreachableError is a database that did not answer at start-up, said in
// one line with the fix, instead of the driver's several lines about each
// address it tried. The driver's error stays in the chain (Unwrap).
type UnreachableError struct {
	Addr string
	err  error
}

func (e *UnreachableError) Error() string {
	return "cannot reach PostgreSQL at " + e.Addr + " (" + e.cause() + "): start it there, or set DATABASE_URL (and MIGRATE_DATABASE_URL) to a server that runs"
}

func (e *UnreachableError) Unwrap() error { return e.err }

// cause is the shortest true account of the failure: the network error
// ("connect: connection refused") when there is one, else the first line
// of the driver's.
func (e *UnreachableError) cause() string {
	var op *net.OpError
	if errors.As(e.err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	line, _, _ := strings.Cut(e.err.Error(), "\n")
	// The driver names the user and database; neither is a secret, but the
	// message is about reaching the server, so keep it short.
	if _, after, ok := strings.Cut(line, "): "); ok {
		return after
	}
	return line
}
