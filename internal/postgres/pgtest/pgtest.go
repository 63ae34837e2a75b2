// Package pgtest gives each test a freshly migrated database of its own on a
// real PostgreSQL, so tests can run in parallel and never see each other's
// rows.
//
// The server is the one DATABASE_URL points to (its user must be a
// superuser: it creates databases and the two roles, and test fixtures
// written through it must see past row-level security), or else a throwaway
// cluster started from the local server binaries. Migrations run once per
// test binary, as the owner role, into a template database; each test then
// gets a copy of the template, which takes milliseconds.
//
// A package using it declares
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// so the cluster is stopped and the template dropped when its tests end.
package pgtest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/postgres/cluster"
)

// Bounds on the slow steps. Starting a cluster and migrating take seconds;
// copying the template and dropping a copy take milliseconds.
const (
	setupTimeout    = 2 * time.Minute
	databaseTimeout = 30 * time.Second
)

// shared is the server and template that every test in this binary uses.
//
//nolint:gochecknoglobals // TestMain and the tests have no other channel: starting a server and migrating per test would cost seconds each.
var shared state

// state is guarded by mu. Setup runs once; its failure is kept, so that every
// test reports it at once instead of each retrying a slow start.
type state struct {
	mu        sync.Mutex
	inMain    bool // Main is running, so someone will tear down
	setupDone bool
	setupErr  error

	cluster  *cluster.Cluster // nil when DATABASE_URL names the server
	admin    *pgxpool.Pool    // to the admin database, never to the template
	server   *url.URL         // admin URL; the database name is swapped per use
	roles    postgres.Roles   // the owner and service logins on the server
	template string
}

// Database is a fresh migrated database and the three ways into it.
// Every URL holds a password: do not log them.
type Database struct {
	// Service is the service's role: owns nothing, bound by row-level
	// security (DATABASE_URL).
	Service string
	// Owner owns the tables: migrations and the demo seed
	// (MIGRATE_DATABASE_URL).
	Owner string
	// Admin is the superuser: for test fixtures that must write or read
	// every row whoever it belongs to.
	Admin string
}

// Main runs the tests, then stops the cluster or drops the template, and
// exits with the tests' code. A failed teardown fails the run: it leaks a
// server or a database that the next run would trip over.
func Main(m *testing.M) {
	shared.mu.Lock()
	shared.inMain = true
	shared.mu.Unlock()

	code := m.Run()
	if err := shared.teardown(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// NewDatabase creates a database with every migration applied, for t alone,
// and drops it when t ends. It returns the superuser's URL of it (see New
// for the others), which holds a password: do not log it.
//
// With no server to be had it skips t, except when CI is set, where it fails:
// a CI run that silently skips its integration tests proves nothing.
func NewDatabase(t testing.TB) string {
	t.Helper()
	return New(t).Admin
}

// New is NewDatabase with the URLs of all three roles.
func New(t testing.TB) Database {
	t.Helper()
	s := &shared
	if err := s.setup(); err != nil {
		if errors.Is(err, cluster.ErrNoBinaries) && os.Getenv("CI") == "" {
			t.Skip(err)
		}
		t.Fatal(err)
	}

	name := "test_" + randomSuffix()
	ctx, cancel := context.WithTimeout(t.Context(), databaseTimeout)
	defer cancel()
	// A template copy is a file copy: no migration runs per test.
	create := "CREATE DATABASE " + quote(name) + " TEMPLATE " + quote(s.template) + " OWNER " + quote(postgres.OwnerRole)
	if _, err := s.admin.Exec(ctx, create); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		// t.Context() has ended by now; the drop needs a context of its own.
		ctx, cancel := context.WithTimeout(context.Background(), databaseTimeout)
		defer cancel()
		// FORCE ends the sessions a test left open, so a leaked connection
		// cannot keep its database alive.
		if _, err := s.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+quote(name)+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	logins, err := s.roles.Logins(s.urlFor(name), name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return Database{Service: logins.Service, Owner: logins.Owner, Admin: s.urlFor(name)}
}

// NewPool is NewDatabase with a connection pool to the new database, closed
// before the database is dropped.
func NewPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	databaseURL := NewDatabase(t)
	pool, err := postgres.Open(t.Context(), databaseURL, postgres.Options{})
	if err != nil {
		t.Fatalf("pgtest: open pool: %v", err)
	}
	// Cleanups run last-in first-out: the pool closes before the drop.
	t.Cleanup(pool.Close)
	return pool
}

// setup finds a server and builds the template, once per test binary. Holding
// mu throughout makes parallel tests wait for the one template instead of
// racing to create their own.
func (s *state) setup() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.inMain {
		// Without Main nobody stops the cluster or drops the template.
		return errors.New("pgtest: call pgtest.Main(m) from TestMain to use pgtest")
	}
	if !s.setupDone {
		s.setupDone = true
		s.setupErr = s.build()
	}
	return s.setupErr
}

func (s *state) build() error {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()

	adminURL := os.Getenv("DATABASE_URL")
	if adminURL == "" {
		c, err := cluster.Start(ctx, cluster.Options{
			// Warnings only: a started cluster is not news in test output.
			Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		})
		if err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
		s.cluster = c
		adminURL = c.URL("postgres")
	}
	server, err := url.Parse(adminURL)
	if err != nil || (server.Scheme != "postgres" && server.Scheme != "postgresql") {
		// Never the parse error: it quotes the URL, password included.
		return errors.New("pgtest: DATABASE_URL must be a postgres:// URL")
	}
	s.server = server

	admin, err := postgres.Open(ctx, adminURL, postgres.Options{})
	if err != nil {
		return fmt.Errorf("pgtest: connect to the admin database: %w", err)
	}
	s.admin = admin
	// The passwords derive from the admin's URL: binaries sharing a
	// DATABASE_URL server agree on them.
	roles, err := postgres.ProvisionRoles(ctx, admin, adminURL)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	s.roles = roles

	// A random name lets test binaries of several packages, which go test
	// runs at the same time, share one DATABASE_URL server.
	template := "bulwark_template_" + randomSuffix()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+quote(template)+" OWNER "+quote(postgres.OwnerRole)); err != nil {
		return fmt.Errorf("pgtest: create template database: %w", err)
	}
	// Recorded before migrating, so teardown drops a half-migrated template too.
	s.template = template
	// Migrate closes its connections when it returns. It must: PostgreSQL
	// refuses to copy a template that has sessions open. It runs as the
	// owner, as `api migrate` does with MIGRATE_DATABASE_URL.
	logins, err := roles.Logins(s.urlFor(template), template)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	if _, err := postgres.Migrate(ctx, logins.Owner); err != nil {
		return fmt.Errorf("pgtest: migrate template database: %w", err)
	}
	return nil
}

// teardown releases what build made. A cluster takes its databases with it;
// on a DATABASE_URL server the template must be dropped.
func (s *state) teardown() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()

	var errs []error
	if s.cluster == nil && s.admin != nil && s.template != "" {
		if _, err := s.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+quote(s.template)+" WITH (FORCE)"); err != nil {
			errs = append(errs, fmt.Errorf("drop template database %s: %w", s.template, err))
		}
	}
	if s.admin != nil {
		s.admin.Close()
	}
	if s.cluster != nil {
		if err := s.cluster.Stop(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// urlFor is the admin URL with its database swapped for name, keeping the
// credentials and parameters such as sslmode.
func (s *state) urlFor(name string) string {
	u := *s.server
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

// randomSuffix makes database names that no other test, binary or earlier
// run will have chosen. Lower case, so a person can type them in psql
// without quotes.
func randomSuffix() string {
	return strings.ToLower(rand.Text())
}

// quote makes a name safe to splice into SQL: CREATE DATABASE takes no
// parameters.
func quote(name string) string {
	return pgx.Identifier{name}.Sanitize()
}
