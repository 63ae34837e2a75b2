package pgtest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestNewDatabaseGivesIndependentDatabases(t *testing.T) {
	began := time.Now()
	urlA := pgtest.NewDatabase(t)
	t.Logf("first database (includes server start and migration): %v", time.Since(began).Round(time.Millisecond))
	began = time.Now()
	urlB := pgtest.NewDatabase(t)
	t.Logf("second database: %v", time.Since(began).Round(time.Millisecond))
	if urlA == urlB {
		t.Fatal("two calls returned the same database")
	}
	a, b := open(t, urlA), open(t, urlB)

	if nameA, nameB := currentDatabase(t, a), currentDatabase(t, b); nameA == nameB {
		t.Fatalf("both URLs lead to database %s", nameA)
	}
	for name, pool := range map[string]*pgxpool.Pool{"a": a, "b": b} {
		if n := countUsers(t, pool); n != 0 {
			t.Errorf("database %s starts with %d users, want 0 (and the users table to exist)", name, n)
		}
	}

	insertUser(t, a, "00000000-0000-0000-0000-000000000001", "alice@example.com")
	if n := countUsers(t, a); n != 1 {
		t.Errorf("database a has %d users after an insert, want 1", n)
	}
	if n := countUsers(t, b); n != 0 {
		t.Errorf("database b sees %d users inserted into a, want 0", n)
	}
}

// TestParallelDatabasesDoNotCollide inserts the same unique email from tests
// running at once: on a shared database all but one would fail.
func TestParallelDatabasesDoNotCollide(t *testing.T) {
	for _, name := range []string{"one", "two", "three", "four", "five", "six", "seven", "eight"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			began := time.Now()
			pool := pgtest.NewPool(t)
			t.Logf("database ready in %v", time.Since(began).Round(time.Millisecond))
			insertUser(t, pool, "00000000-0000-0000-0000-000000000001", "same@example.com")
			if n := countUsers(t, pool); n != 1 {
				t.Errorf("users = %d, want 1", n)
			}
		})
	}
}

func TestDatabaseIsDroppedAfterTest(t *testing.T) {
	var databaseURL string
	t.Run("owner", func(t *testing.T) {
		databaseURL = pgtest.NewDatabase(t)
		// An open connection must not keep the database alive.
		conn, err := pgx.Connect(t.Context(), databaseURL)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		t.Cleanup(func() { _ = conn.Close(context.Background()) })
	})
	if t.Skipped() || databaseURL == "" {
		return
	}
	conn, err := pgx.Connect(t.Context(), databaseURL)
	if err == nil {
		_ = conn.Close(context.Background())
		t.Fatal("database still exists after its test ended")
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "3D000" { // invalid_catalog_name
		t.Fatalf("connect to dropped database: %v, want SQLSTATE 3D000", err)
	}
}

func open(t *testing.T, databaseURL string) *pgxpool.Pool {
	t.Helper()
	pool, err := postgres.Open(t.Context(), databaseURL, postgres.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func currentDatabase(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var name string
	if err := pool.QueryRow(t.Context(), "SELECT current_database()").Scan(&name); err != nil {
		t.Fatalf("current_database: %v", err)
	}
	return name
}

func countUsers(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(t.Context(), "SELECT count(*) FROM users").Scan(&n); err != nil {
		t.Fatalf("count users: %v", err)
	}
	return n
}

func insertUser(t *testing.T, pool *pgxpool.Pool, id, email string) {
	t.Helper()
	_, err := pool.Exec(t.Context(),
		"INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, 'Test', 'x')", id, email)
	if err != nil {
		t.Fatalf("insert user: %v", err)
	}
}
