package orders

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bulwark-dev/bulwark/internal/db"
)

// Placed is a new order and what its coupon took off (0 without one).
// Only the creation answers with the discount; the total is after it.
type Placed struct {
	Order
	DiscountCents int64
}

// cancelAndRelease cancels the caller's order, inside one transaction (q),
// and undoes what the order held: its units go back to stock, and a paid
// order is refunded.
//
// The status change is the conditional UPDATE it always was
// (CancelOrderForOwner, WHERE status IN ('pending', 'paid')): of several
// cancels at once, one matches the row and the rest match none. The
// release and the refund run only after that match, in the same
// transaction, so they happen once per order, however many requests ask
// (docs/12-business-flows.md). The row lock taken first only tells a
// paid order from a pending one; the refund's UNIQUE (order_id) would
// still hold one refund per order without it.
func (s *Store) cancelAndRelease(ctx context.Context, q *db.Queries, owner, id uuid.UUID) (Order, error) {
	previous, err := q.GetOrderStatusForOwnerForUpdate(ctx, db.GetOrderStatusForOwnerForUpdateParams{ID: id, OwnerID: owner})
	if errors.Is(err, pgx.ErrNoRows) {
		return Order{}, fmt.Errorf("order %s for %s: %w", id, owner, ErrNotFound)
	}
	if err != nil {
		return Order{}, fmt.Errorf("lock order %s: %w", id, err)
	}
	row, err := q.CancelOrderForOwner(ctx, db.CancelOrderForOwnerParams{ID: id, OwnerID: owner})
	if errors.Is(err, pgx.ErrNoRows) {
		return Order{}, errNoRow
	}
	if err != nil {
		return Order{}, fmt.Errorf("cancel order %s: %w", id, err)
	}
	held, err := q.ListOrderStockForOwner(ctx, db.ListOrderStockForOwnerParams{OrderID: id, OwnerID: owner})
	if err != nil {
		return Order{}, fmt.Errorf("load stock of order %s: %w", id, err)
	}
	lines := make([]StockLine, 0, len(held))
	for _, h := range held {
		lines = append(lines, StockLine{ProductID: h.ProductID, Quantity: h.Quantity})
	}
	if err := Release(ctx, q, lines); err != nil {
		return Order{}, err
	}
	if Status(previous) == StatusPaid {
		if _, err := q.RefundCancelledOrderForOwner(ctx, db.RefundCancelledOrderForOwnerParams{ID: uuid.New(), OrderID: id, OwnerID: owner}); err != nil {
			return Order{}, fmt.Errorf("refund order %s: %w", id, err)
		}
	}
	orders, err := s.withItems(ctx, q, owner, []orderRow{orderRow(row)})
	if err != nil {
		return Order{}, err
	}
	return orders[0], nil
}
