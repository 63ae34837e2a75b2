package postgres_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/bulwark-dev/bulwark/internal/postgres"
)

// A database that does not answer is one line naming the address, the
// cause and the variable to fix, never the password.
func TestUnreachableDatabaseIsOneLine(t *testing.T) {
	_, err := postgres.Open(t.Context(), "postgres://bulwark_app:hunter2-secret@127.0.0.1:1/bulwark?connect_timeout=2", postgres.Options{})
	var unreachable *postgres.UnreachableError
	if !errors.As(err, &unreachable) {
		t.Fatalf("Open: %v, want an UnreachableError", err)
	}
	msg := err.Error()
	for _, want := range []string{"127.0.0.1:1", "connection refused", "DATABASE_URL"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q does not say %q", msg, want)
		}
	}
	if strings.Contains(msg, "\n") || strings.Contains(msg, "hunter2") {
		t.Errorf("%q: want one line, without the password", msg)
	}
}
