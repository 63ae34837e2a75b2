package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bulwark-dev/bulwark/internal/postgres"
)

func TestUnavailableSeparatesOutagesFromFaults(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	clientTimeout := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"statement_timeout", &pgconn.PgError{Code: "57014"}, true},
		{"server shutting down", fmt.Errorf("load: %w", &pgconn.PgError{Code: "57P01"}), true},
		{"server starting up", &pgconn.PgError{Code: "57P03"}, true},
		{"connection exception class", &pgconn.PgError{Code: "08006"}, true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"request deadline", fmt.Errorf("begin: %w", context.DeadlineExceeded), true},
		{"dial refused", fmt.Errorf("acquire: %w", &pgconn.ConnectError{Config: &pgconn.Config{}}), true},
		{"driver closed the connection", fmt.Errorf("query: %w", pgconn.ErrConnClosed), true},
		{"real dial refused", dialError(t), true},
		// The client's own faults are not the database's: a body cut short
		// or too slow must not answer "unavailable, retry".
		{"upload cut short", fmt.Errorf("read upload: %w", io.ErrUnexpectedEOF), false},
		{"client body too slow", fmt.Errorf("store: %w", clientTimeout), false},
		{"bare refused dial, not the driver's", fmt.Errorf("fetch: %w", refused), false},
		// Faults of the request or the code stay what they are.
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"syntax error", &pgconn.PgError{Code: "42601"}, false},
		{"no rows", pgx.ErrNoRows, false},
		{"client went away", context.Canceled, false},
		{"plain bug", errors.New("nil map"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := postgres.Unavailable(c.err); got != c.want {
				t.Errorf("Unavailable(%v) = %v, want %v", c.err, got, c.want)
			}
		})
	}
}

// dialError is what pgx really returns when nothing listens: a connect
// error from the driver, not a bare net.OpError.
func dialError(t *testing.T) error {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	_, err = pgconn.Connect(t.Context(), "postgres://nobody@"+addr+"/x?sslmode=disable&connect_timeout=2")
	if err == nil {
		t.Fatal("connected to a closed port")
	}
	return err
}
