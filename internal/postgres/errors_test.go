package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bulwark-dev/bulwark/internal/postgres"
)

func TestUnavailableSeparatesOutagesFromFaults(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
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
		{"dial refused", fmt.Errorf("acquire: %w", refused), true},
		{"connection closed by the server", fmt.Errorf("query: %w", io.ErrUnexpectedEOF), true},
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
