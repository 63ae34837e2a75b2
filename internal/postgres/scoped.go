package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// setIdentity is the statement that travels in front of every statement of
// a request. is_local = true: the settings belong to the transaction and
// vanish with it, so the connection goes back to the pool carrying nobody's
// identity (TestPooledConnectionForgetsTheIdentity).
const setIdentity = `SELECT set_config('bulwark.user_id', $1, true), set_config('bulwark.scope', $2, true)`

// checkIdentity is setIdentity for an identity in a session
// (Identity.InSession): it sets the same two settings, but only after it
// has found the session live, and otherwise fails with SQLSTATE BW401, so
// the statement behind it never runs
// (db/migrations/00008_session_in_identity.sql).
const checkIdentity = `SELECT bulwark_identify($1, $2, $3, $4)`

// DB is the database as a request sees it: the pool, with the identity of
// the request (WithIdentity) sent in front of each statement. Stores build
// their queries on it (db.New(postgres.Scoped(pool))), so row-level
// security judges every statement by the caller who caused it.
//
// Each statement with an identity goes out as one pgx.Batch of two
// statements, [set_config(...), the statement], in one round trip. A batch
// outside a transaction is one implicit transaction, so the settings hold
// for the statement and are gone after it. A context without an identity
// sends the statement alone: the policies then see no identity and admit
// no row.
type DB struct {
	pool *pgxpool.Pool
}

// Scoped wraps the pool. It satisfies sqlc's db.DBTX.
func Scoped(pool *pgxpool.Pool) *DB { return &DB{pool: pool} }

// Exec runs sql as the context's identity.
func (d *DB) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return execAs(ctx, d.on(ctx), sql, args)
}

// Query runs sql as the context's identity. Close the rows: that returns
// the connection.
func (d *DB) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return queryAs(ctx, d.on(ctx), sql, args)
}

// QueryRow runs sql as the context's identity; Scan returns the connection.
func (d *DB) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return queryRowAs(ctx, d.on(ctx), sql, args)
}

// on is where a statement runs: the request's enclosing transaction when
// it has one (Enclose: the idempotency middleware holds one connection for
// the whole request), otherwise the pool. Taking a second connection
// while the first is held would deadlock as soon as as many such requests
// run as the pool has connections: each holds one and waits for another.
func (d *DB) on(ctx context.Context) conn {
	if tx, ok := enclosing(ctx); ok {
		return tx
	}
	return d.pool
}

// conn is what both a pool and a transaction offer: plain statements, and
// batches.
type conn interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// withIdentity queues the identity, then the statement. ok is false when
// ctx carries no identity.
func withIdentity(ctx context.Context, sql string, args []any) (*pgx.Batch, Identity, bool) {
	id, ok := IdentityFrom(ctx)
	if !ok {
		return nil, id, false
	}
	b := &pgx.Batch{}
	queueIdentity(b, id)
	b.Queue(sql, args...)
	return b, id, true
}

func queueIdentity(b *pgx.Batch, id Identity) {
	userID, scope := id.settings()
	if s := id.session; s != nil {
		b.Queue(checkIdentity, userID, scope, s.family, s.version)
		return
	}
	b.Queue(setIdentity, userID, scope)
}

// identified is the outcome of the identity statement: nil, and the
// request's session marked live, or the error that refused it, as
// ErrSessionEnded when the session is over.
func identified(id Identity, err error) error {
	if err == nil {
		if id.session != nil {
			id.session.live.Store(true)
		}
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == sessionEndedCode {
		return fmt.Errorf("set identity: %w: %w", ErrSessionEnded, err)
	}
	return fmt.Errorf("set identity: %w", err)
}

func execAs(ctx context.Context, c conn, sql string, args []any) (pgconn.CommandTag, error) {
	b, id, ok := withIdentity(ctx, sql, args)
	if !ok {
		return c.Exec(ctx, sql, args...)
	}
	br := c.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return pgconn.CommandTag{}, identified(id, err)
	}
	_ = identified(id, nil)
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return tag, err
}

func queryAs(ctx context.Context, c conn, sql string, args []any) (pgx.Rows, error) {
	b, id, ok := withIdentity(ctx, sql, args)
	if !ok {
		return c.Query(ctx, sql, args...)
	}
	br := c.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		err = identified(id, err)
		return errRows{err}, err
	}
	_ = identified(id, nil)
	// On an error too the rows carry it, as pgx's own Query does, so that
	// rows, _ := Query(...) followed by pgx.CollectRows still reports it.
	rows, err := br.Query()
	return &batchRows{Rows: rows, batch: br}, err
}

func queryRowAs(ctx context.Context, c conn, sql string, args []any) pgx.Row {
	b, id, ok := withIdentity(ctx, sql, args)
	if !ok {
		return c.QueryRow(ctx, sql, args...)
	}
	return batchRow{batch: c.SendBatch(ctx, b), id: id}
}

// batchRows are the rows of the batch's second statement. Closing them
// closes the batch, which returns a pooled connection.
type batchRows struct {
	pgx.Rows
	batch    pgx.BatchResults
	closed   bool
	closeErr error
}

func (r *batchRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	r.closeErr = r.batch.Close()
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.closeErr
}

// errRows are the rows of a statement that was never run.
type errRows struct{ err error }

func (errRows) Close()                                       {}
func (r errRows) Err() error                                 { return r.err }
func (errRows) CommandTag() pgconn.CommandTag                { return pgconn.CommandTag{} }
func (errRows) FieldDescriptions() []pgconn.FieldDescription { return nil }
func (errRows) Next() bool                                   { return false }
func (r errRows) Scan(...any) error                          { return r.err }
func (r errRows) Values() ([]any, error)                     { return nil, r.err }
func (errRows) RawValues() [][]byte                          { return nil }
func (errRows) Conn() *pgx.Conn                              { return nil }
func (errRows) TypeMap() *pgtype.Map                         { return nil }

// batchRow is the one row of the batch's second statement.
type batchRow struct {
	batch pgx.BatchResults
	id    Identity
}

func (r batchRow) Scan(dest ...any) error {
	if _, err := r.batch.Exec(); err != nil {
		_ = r.batch.Close()
		return identified(r.id, err)
	}
	_ = identified(r.id, nil)
	err := r.batch.QueryRow().Scan(dest...)
	if cerr := r.batch.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return err
}

// scopedTx is a transaction whose statements carry the context's identity,
// each in one batch with the statement, as DB's do. set_config's settings
// are local to the transaction either way; sending them with every
// statement, rather than once, keeps a transaction correct whatever order
// its statements come in, for a few microseconds of server time each.
type scopedTx struct {
	pgx.Tx
}

func (t scopedTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return execAs(ctx, t.Tx, sql, args)
}

func (t scopedTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return queryAs(ctx, t.Tx, sql, args)
}

func (t scopedTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return queryRowAs(ctx, t.Tx, sql, args)
}

// RequireLiveSession returns ErrSessionEnded if ctx's identity is in a
// session that has ended, and nil if it is live or ctx carries no session.
// Statements check the session themselves; call this before the request
// acts outside the database (stores a file, fetches a URL, calls the
// payment provider), so that a revoked token causes nothing anywhere. Once
// a statement of the request has passed the check it costs nothing;
// before that, it runs the check alone, in one round trip, in the request's
// enclosing transaction if it has one (Enclose), so it never waits for a
// second connection.
func RequireLiveSession(ctx context.Context, pool *pgxpool.Pool) error {
	id, ok := IdentityFrom(ctx)
	if !ok || id.session == nil || id.session.live.Load() {
		return nil
	}
	var c conn = pool
	if tx, ok := enclosing(ctx); ok {
		c = tx
	}
	b := &pgx.Batch{}
	queueIdentity(b, id)
	br := c.SendBatch(ctx, b)
	_, err := br.Exec()
	if cerr := br.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return identified(id, err)
}

// ScopeTx wraps a transaction that a caller began on the pool itself (the
// idempotency middleware's request-wide one, Enclose) so that its
// statements carry the context's identity, as WithTx's do.
func ScopeTx(tx pgx.Tx) pgx.Tx {
	if s, ok := tx.(scopedTx); ok {
		return s
	}
	return scopedTx{tx}
}
