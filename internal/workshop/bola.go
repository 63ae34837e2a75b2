//go:build workshop

package workshop

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bulwark-dev/bulwark/internal/orders"
	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/web"
)

// OrderFinder switches the lookup behind every /orders/{id} route between
// the service's own and three variants. Two walls stand between bob and
// alice's order in the secure build: the owner in the query's WHERE clause
// (the application's check), and row-level security in the database, which
// shows bob's statements bob's rows only (docs/01-bola.md).
//
// Vulnerable: both walls down. The order is loaded by its id alone, in the
// staff scope that row-level security lets read every order (as if a
// developer had reached for the admin lookup). Any customer who learns an
// id (from a URL, a log, a support ticket) reads that order: bob reads
// alice's.
//
// Naive: the same load, then ownership is checked in Go, and a foreign
// order is refused with 403 while a missing one is 404. Bob cannot read
// alice's order, but the two answers tell him which ids exist.
//
// RLS only: the application's check is gone (the order is loaded by its id
// alone, nothing compared), but through the service's normal database
// path, as bob. Row-level security returns no row, so bob gets the same 404
// as for a missing id: the second wall holds on its own.
//
// Secure code: the owner is in the WHERE clause (internal/orders/store.go,
// getForOwner), foreign and missing are the same 404
// (internal/orders/handler.go, ResolveOwned), and every statement runs as
// the caller under row-level security (internal/postgres/scoped.go).
//
// It decorates the lookup the way secure does (app.Parts.OrderFinder), and
// falls back to that lookup when the switch is on secure.
func OrderFinder(b *Board, pool *pgxpool.Pool, secure func(orders.OwnedFinder) orders.OwnedFinder) func(orders.OwnedFinder) orders.OwnedFinder {
	return func(find orders.OwnedFinder) orders.OwnedFinder {
		return orderFinder{board: b, db: postgres.Scoped(pool), secure: secure(find)}
	}
}

type orderFinder struct {
	board  *Board
	db     *postgres.DB
	secure orders.OwnedFinder
}

func (f orderFinder) GetForOwner(ctx context.Context, owner, id uuid.UUID) (orders.Order, error) {
	// Every order, whoever owns it: the wall row-level security would be.
	everyOrder := postgres.WithIdentity(ctx, postgres.Staff(owner))
	switch f.board.Get("bola") {
	case Vulnerable:
		return orderByID(everyOrder, f.db, id) // owner is never looked at
	case Naive:
		o, err := orderByID(everyOrder, f.db, id)
		if err == nil && o.OwnerID != owner {
			return orders.Order{}, web.Forbidden("This order belongs to another customer.")
		}
		return o, err
	case RLSOnly:
		return orderByID(ctx, f.db, id) // as bob: the request's own identity
	default:
		return f.secure.GetForOwner(ctx, owner, id)
	}
}

// orderByID is the query the variants share: WHERE id = $1, and nothing
// else. Whose rows it can see is up to the identity in ctx.
func orderByID(ctx context.Context, db *postgres.DB, id uuid.UUID) (orders.Order, error) {
	var o orders.Order
	err := db.QueryRow(ctx, `SELECT id, owner_id, status, total_cents, currency, shipping_address, note, created_at, updated_at
		FROM orders WHERE id = $1`, id).Scan(&o.ID, &o.OwnerID, &o.Status, &o.TotalCents, &o.Currency, &o.ShippingAddress, &o.Note, &o.CreatedAt, &o.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, fmt.Errorf("order %s: %w", id, orders.ErrNotFound)
	}
	if err != nil {
		return o, fmt.Errorf("load order %s: %w", id, err)
	}
	rows, _ := db.Query(ctx, `SELECT product_id, name, quantity, unit_price_cents FROM order_items WHERE order_id = $1 ORDER BY line`, id)
	if o.Items, err = pgx.CollectRows(rows, pgx.RowToStructByName[orders.Item]); err != nil {
		return o, fmt.Errorf("load items of %s: %w", id, err)
	}
	return o, nil
}
