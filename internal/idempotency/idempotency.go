// Package idempotency makes a route's retries safe: with an
// Idempotency-Key header (IETF draft-ietf-httpapi-idempotency-key-header),
// a request that is sent again, because its answer was lost or a client
// retried too eagerly, gets the first answer instead of a second effect.
// Any route opts in by adding Middleware to its row in
// internal/app/routes.go (docs/12-business-flows.md).
//
// Design: the whole request runs in one PostgreSQL transaction that the
// middleware opens, and every write of the handler joins it
// (postgres.Enclose, postgres.WithTx). The key's row, with the answer, is
// inserted into that same transaction just before COMMIT. So the row
// exists if and only if the effect committed:
//
//   - a retry after a lost answer (the client saw a 503 or a reset while
//     the COMMIT may have gone through) finds the row and gets the answer,
//     or finds none and runs once, because nothing happened;
//   - a request that fails leaves no key, and its retry runs anew;
//   - there is no "in flight" row that a crash could leave behind and that
//     would need a lease and a guess about whether the effect happened.
//
// A second request with a key whose first request is still running is
// refused at once with 409, by a transaction-scoped advisory lock on the
// (caller, key) pair: it never waits for, and never runs beside, the
// first. The primary key (user_id, key) holds the rule even without the
// lock: a second effect would fail on it and roll back.
//
// The price: the request holds one database connection from start to
// finish, and its writes must go through postgres.WithTx.
package idempotency

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/db"
	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/web"
)

// Header is the request header that carries the key.
const Header = "Idempotency-Key"

// ReplayedHeader marks an answer served from a stored key.
const ReplayedHeader = "Idempotent-Replayed"

// TTL is how long a key is kept after its first success. A retry later
// than this runs as a new request.
const TTL = 24 * time.Hour

// maxStoredBody bounds the answer kept with a key (the column's CHECK
// says the same); the routes that opt in answer far less.
const maxStoredBody = 1 << 20

// Errors the middleware answers with.
const (
	ErrInFlight = web.Conflict("A request with this Idempotency-Key is still being processed; retry after the time in Retry-After.")
	ErrMismatch = web.Unprocessable("This Idempotency-Key was already used for a different request; use a new key for a new request.")
)

func invalidKey() error {
	return &web.ValidationError{Fields: []web.FieldError{{Field: Header, Message: "must be one header of 1 to 255 visible ASCII characters"}}}
}

// Middleware makes a route idempotent under the header's key, scoped to
// the caller that caller names (the authenticated user: it runs after the
// route's policy). A request without the header runs as before.
func Middleware(pool *pgxpool.Pool, caller func(*echo.Context) uuid.UUID) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			keys := c.Request().Header.Values(Header)
			if len(keys) == 0 {
				return next(c)
			}
			if len(keys) > 1 || !validKey(keys[0]) {
				return invalidKey()
			}
			return run(c, next, pool, caller(c), keys[0])
		}
	}
}

func validKey(k string) bool {
	if len(k) < 1 || len(k) > 255 {
		return false
	}
	for i := range len(k) {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// run serves one keyed request inside its transaction.
func run(c *echo.Context, next echo.HandlerFunc, pool *pgxpool.Pool, user uuid.UUID, key string) error {
	req := c.Request()
	ctx := req.Context()
	begun, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("idempotency: begin: %w", err)
	}
	// Its statements, and the handler's savepoints in it, carry the
	// caller's identity (customer scope, auth.Authenticate), so row-level
	// security judges them as any other statement of the request.
	tx := postgres.ScopeTx(begun)
	// A no-op after COMMIT; otherwise it undoes the effect with the key.
	defer func() { _ = tx.Rollback(ctx) }()
	q := db.New(tx)

	locked, err := q.TryLockIdempotencyKey(ctx, db.TryLockIdempotencyKeyParams{UserID: user, Key: key})
	if err != nil {
		return fmt.Errorf("idempotency: lock: %w", err)
	}
	if !locked {
		c.Response().Header().Set("Retry-After", "1")
		return fmt.Errorf("key %q of %s: %w", key, user, ErrInFlight)
	}
	if err := q.DeleteExpiredIdempotencyKeys(ctx, user); err != nil {
		return fmt.Errorf("idempotency: expire: %w", err)
	}
	fingerprint := sha256.New()
	// The method and the path are part of the request: the same key on
	// another route, or on another order, is another request.
	fmt.Fprintf(fingerprint, "%s\n%s\n", req.Method, req.URL.Path)

	stored, err := q.GetIdempotencyKey(ctx, db.GetIdempotencyKeyParams{UserID: user, Key: key})
	switch {
	case err == nil:
		return replay(c, req.Body, fingerprint, stored)
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("idempotency: load key: %w", err)
	}

	// First time: the body is hashed as the handler reads it, not read
	// twice or held in memory.
	body := io.TeeReader(req.Body, fingerprint)
	req.Body = io.NopCloser(body)
	c.SetRequest(req.WithContext(postgres.Enclose(ctx, tx)))
	original := c.Response()
	rec := &recorder{ResponseWriter: original}
	c.SetResponse(rec)
	err = next(c)
	c.SetResponse(original)
	c.SetRequest(req.WithContext(ctx))
	if err != nil {
		return err // the deferred rollback undoes the effect; no key is kept
	}
	if rec.status < 200 || rec.status > 299 || rec.body.Len() > maxStoredBody {
		// Not a success (or too large to keep): the effect, if any, is
		// rolled back, and the answer passes through unchanged.
		return rec.flush(original)
	}
	// The handler may not have read the whole body (a route without one);
	// the rest is part of the request all the same.
	if _, err := io.Copy(io.Discard, body); err != nil {
		return fmt.Errorf("idempotency: read body: %w", err)
	}
	err = q.SaveIdempotencyKey(ctx, db.SaveIdempotencyKeyParams{
		UserID: user, Key: key, RequestHash: fingerprint.Sum(nil), StatusCode: int32(rec.status), //nolint:gosec // 200..299.
		ContentType: rec.Header().Get(echo.HeaderContentType), Body: rec.body.Bytes(), TtlSeconds: TTL.Seconds(),
	})
	if postgres.IsUniqueViolation(err, "idempotency_keys_once_per_caller") {
		// Another request with the key committed first: reached only
		// without the advisory lock above, and then this effect rolls back.
		c.Response().Header().Set("Retry-After", "1")
		return fmt.Errorf("key %q of %s saved by another request: %w", key, user, ErrInFlight)
	}
	if err != nil {
		return fmt.Errorf("idempotency: save key: %w", err)
	}
	// If the COMMIT's answer is lost, the error maps to 503 with
	// Retry-After (internal/app/dberrors.go): the retry finds the key if
	// the effect committed, and runs once if it did not.
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("idempotency: commit: %w", err)
	}
	return rec.flush(original)
}

// replay answers with the stored answer, if the request is the same one.
func replay(c *echo.Context, body io.Reader, fingerprint hash.Hash, stored db.GetIdempotencyKeyRow) error {
	if _, err := io.Copy(fingerprint, body); err != nil {
		return fmt.Errorf("idempotency: read body: %w", err)
	}
	if subtle.ConstantTimeCompare(fingerprint.Sum(nil), stored.RequestHash) != 1 {
		return ErrMismatch
	}
	c.Response().Header().Set(ReplayedHeader, "true")
	return c.Blob(int(stored.StatusCode), stored.ContentType, stored.Body)
}

// recorder holds the handler's answer until the transaction has committed:
// a client must never see a success whose COMMIT then failed. Headers go
// straight to the real response's header map.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

// Unwrap lets echo find its own Response underneath (echo.UnwrapResponse).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) flush(w http.ResponseWriter) error {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	w.Header().Set("Content-Length", strconv.Itoa(r.body.Len()))
	w.WriteHeader(r.status)
	_, err := w.Write(r.body.Bytes())
	return err
}
