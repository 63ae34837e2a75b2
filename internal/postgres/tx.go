package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

type enclosingKey struct{}

// Enclose returns a context in which every WithTx joins tx (as a savepoint)
// instead of opening a transaction of its own, so the writes of a whole
// request commit or roll back with whatever its caller adds to tx. The
// idempotency middleware uses it to store a key in the same transaction as
// the effect the key names (internal/idempotency): the key exists exactly
// when the effect does, even when the answer is lost on the way back.
//
// Statements through Scoped run in tx too (reads see the request's own
// writes, and no second connection is taken while this one is held);
// writes should still go through WithTx, whose savepoint lets a failed
// write be handled without aborting tx. Code inside an enclosed request
// must not use the pool directly.
func Enclose(ctx context.Context, tx pgx.Tx) context.Context {
	return context.WithValue(ctx, enclosingKey{}, tx)
}

func enclosing(ctx context.Context) (pgx.Tx, bool) {
	tx, ok := ctx.Value(enclosingKey{}).(pgx.Tx)
	return tx, ok
}
