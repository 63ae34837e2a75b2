// Package postgres opens the connection pool, runs the embedded migrations and
// runs transactions. It is the only package besides the generated code in
// internal/db that knows the database is PostgreSQL.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/bulwark-dev/bulwark/db/migrations"
)

// Options tune the pool. The zero value keeps the server's defaults.
type Options struct {
	// StatementTimeout is set as statement_timeout on every connection, so
	// the server itself abandons a statement that runs or waits on a lock
	// longer: a request's deadline alone only makes the driver hang up,
	// while the server keeps the statement, its locks and its backend.
	StatementTimeout time.Duration
	// Maintenance gives every session of the pool the maintenance scope,
	// for the whole session: the row-level security policies admit every
	// row to the tables' owner under it, and nothing to anyone else
	// (db/migrations/00003_row_level_security.sql). Only the demo seed and
	// the workshop's reset open such a pool, on MIGRATE_DATABASE_URL; the
	// service never does.
	Maintenance bool
	// Tracer, if set, sees every statement and batch the pool sends; the
	// tests count a request's round trips with it.
	Tracer pgx.QueryTracer
}

// maintenanceScope is the value of bulwark.scope that Options.Maintenance
// sets; requests cannot name it (Scope has no such constant).
const maintenanceScope = "maintenance"

// defaultConnectTimeout bounds one connection attempt, dial and start-up
// together, unless DATABASE_URL sets connect_timeout.
const defaultConnectTimeout = 5 * time.Second

// Open connects a pool and checks that the database answers.
func Open(ctx context.Context, databaseURL string, opts Options) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// The parse error can quote the URL, password included: keep it out.
		return nil, errors.New("postgres: DATABASE_URL is not a valid connection string")
	}
	cfg.MaxConnIdleTime = 5 * time.Minute
	if cfg.ConnConfig.ConnectTimeout == 0 {
		// Without a bound, a connection attempt to a server that accepts
		// but never answers (a partition, a wedged proxy) waits forever,
		// and so does every request that needs a new connection without a
		// deadline of its own (uploads and downloads keep the server's
		// context until their transfer starts). connect_timeout in
		// DATABASE_URL overrides it.
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	if opts.StatementTimeout > 0 {
		// Sent in the startup message, so it holds from the first
		// statement of every connection, reconnections included.
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10)
	}
	if _, set := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !set {
		// Plan each prepared statement once per connection. Left to
		// choose (auto), PostgreSQL kept planning the list page's items
		// query afresh on every execution (0 generic plans of 8,000), and
		// under row-level security every plan expands the policies: that
		// planning was database CPU spent on every page. A generic plan
		// cannot see the values, which is what can make it bad; every list
		// query's generic plan is checked, as the service's role, by
		// TestListQueriesUseIndexes and TestPageItemsAreFetchedByID
		// (tests/plan_test.go), and the other statements are lookups by
		// primary key. plan_cache_mode in DATABASE_URL (options=-c...)
		// overrides it.
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
	}
	if opts.Maintenance {
		// In the startup message too: a custom setting is a session's
		// from its first statement, and no request's identity can replace
		// it for long, since those are transaction-local.
		cfg.ConnConfig.RuntimeParams["bulwark.scope"] = maintenanceScope
	}
	if opts.Tracer != nil {
		cfg.ConnConfig.Tracer = opts.Tracer
	}
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		registerUUID(c.TypeMap())
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: create pool: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, &UnreachableError{Addr: net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port))), err: err}
	}
	return pool, nil
}

// Migrate applies every pending migration embedded in the binary.
func Migrate(ctx context.Context, databaseURL string) ([]string, error) {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return nil, errors.New("postgres: DATABASE_URL is not a valid connection string")
	}
	sqlDB := stdlib.OpenDB(*cfg)
	defer func() { _ = sqlDB.Close() }()
	return migrate(ctx, sqlDB)
}

func migrate(ctx context.Context, sqlDB *sql.DB) ([]string, error) {
	// The migrations grant the service's role its privileges by name, so
	// it must exist first; say so, rather than fail halfway through.
	var exists bool
	if err := sqlDB.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, ServiceRole).Scan(&exists); err != nil {
		return nil, fmt.Errorf("postgres: look for role %s: %w", ServiceRole, err)
	}
	if !exists {
		return nil, fmt.Errorf("postgres: the service's role %s does not exist: create it before migrating (CREATE ROLE %s LOGIN PASSWORD '...'; docs/01-bola.md)",
			ServiceRole, ServiceRole)
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	if err != nil {
		return nil, fmt.Errorf("postgres: load migrations: %w", err)
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	applied := make([]string, 0, len(results))
	for _, r := range results {
		applied = append(applied, r.Source.Path)
	}
	return applied, nil
}

// WithTx runs fn inside a transaction: committed when fn returns nil, rolled
// back otherwise (and on panic), so no caller can forget either. The
// transaction fn gets sends the identity of each statement's context with
// the statement, as Scoped does (scoped.go), so sqlc's q.WithTx(tx) runs
// under row-level security as the caller. Inside a request that already
// holds a transaction (Enclose), fn runs in a savepoint of that one
// instead, and commits with it (tx.go); the savepoint's statements carry
// the identity too.
func WithTx(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) error {
	if outer, ok := enclosing(ctx); ok {
		return pgx.BeginFunc(ctx, outer, func(tx pgx.Tx) error { return fn(scopedTx{tx}) })
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	// After a commit this is a no-op; on an error or a panic it returns the
	// connection to the pool clean. Its own error adds nothing for the caller.
	defer func() { _ = tx.Rollback(ctx) }()
	if err := fn(scopedTx{tx}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
