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
	"github.com/bulwark-dev/bulwark/internal/web"
)

// OrderFinder switches the lookup behind every /orders/{id} route between
// the service's own and two variants.
//
// Vulnerable: the order is loaded by its id alone. Any customer who learns
// an id (from a URL, a log, a support ticket) reads that order: bob reads
// alice's.
//
// Naive: ownership is checked, but in Go after the load, and a foreign
// order is refused with 403 while a missing one is 404. Bob cannot read
// alice's order, but the two answers tell him which ids exist.
// Secure code: the owner is in the WHERE clause (internal/orders/store.go,
// getForOwner), and foreign and missing are the same 404
// (internal/orders/handler.go, ResolveOwned).
//
// It decorates the lookup the way secure does (app.Parts.OrderFinder), and
// falls back to that lookup when the switch is on secure.
func OrderFinder(b *Board, pool *pgxpool.Pool, secure func(orders.OwnedFinder) orders.OwnedFinder) func(orders.OwnedFinder) orders.OwnedFinder {
	return func(find orders.OwnedFinder) orders.OwnedFinder {
		return orderFinder{board: b, pool: pool, secure: secure(find)}
	}
}

type orderFinder struct {
	board  *Board
	pool   *pgxpool.Pool
	secure orders.OwnedFinder
}

func (f orderFinder) GetForOwner(ctx context.Context, owner, id uuid.UUID) (orders.Order, error) {
	switch f.board.Get("bola") {
	case Vulnerable:
		return orderByID(ctx, f.pool, id) // owner is never looked at
	case Naive:
		o, err := orderByID(ctx, f.pool, id)
		if err == nil && o.OwnerID != owner {
			return orders.Order{}, web.Forbidden("This order belongs to another customer.")
		}
		return o, err
	default:
		return f.secure.GetForOwner(ctx, owner, id)
	}
}

// orderByID is the query the variants share: WHERE id = $1, and nothing
// else.
func orderByID(ctx context.Context, pool *pgxpool.Pool, id uuid.UUID) (orders.Order, error) {
	var o orders.Order
	err := pool.QueryRow(ctx, `SELECT id, owner_id, status, total_cents, currency, shipping_address, note, created_at, updated_at
		FROM orders WHERE id = $1`, id).Scan(&o.ID, &o.OwnerID, &o.Status, &o.TotalCents, &o.Currency, &o.ShippingAddress, &o.Note, &o.CreatedAt, &o.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, fmt.Errorf("order %s: %w", id, orders.ErrNotFound)
	}
	if err != nil {
		return o, fmt.Errorf("load order %s: %w", id, err)
	}
	rows, _ := pool.Query(ctx, `SELECT product_id, name, quantity, unit_price_cents FROM order_items WHERE order_id = $1 ORDER BY line`, id)
	if o.Items, err = pgx.CollectRows(rows, pgx.RowToStructByName[orders.Item]); err != nil {
		return o, fmt.Errorf("load items of %s: %w", id, err)
	}
	return o, nil
}
