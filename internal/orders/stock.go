package orders

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/bulwark-dev/bulwark/internal/db"
	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/web"
)

// outOfStock names the line that could not be reserved. Product names come
// from the catalogue, never from the request.
func outOfStock(line int, name string) error {
	return web.Conflict(fmt.Sprintf("Not enough stock of %q for items[%d]; nothing was ordered.", name, line))
}

// reserve takes the order's units from stock, inside the order's
// transaction (q). Each line is one conditional UPDATE,
// SET stock = stock - n WHERE stock >= n: the database re-checks the
// count under the row's lock, so a burst of orders for the last units
// sells each unit once, and the CHECK products_stock_not_negative refuses
// any write that would go below zero. Lines are taken in product order,
// the order release uses too, so two orders never wait on each other's
// rows in opposite orders (a deadlock).
func reserve(ctx context.Context, q *db.Queries, lines []Item) error {
	order := make([]int, len(lines))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(lines[a].ProductID.String(), lines[b].ProductID.String()) })
	for _, i := range order {
		l := lines[i]
		n, err := q.ReserveStock(ctx, db.ReserveStockParams{ID: l.ProductID, Quantity: int32(l.Quantity)}) //nolint:gosec // quantity is at most 1000.
		if postgres.IsCheckViolation(err, "products_stock_not_negative") {
			return fmt.Errorf("stock of %s below zero: %w", l.ProductID, outOfStock(i, l.Name))
		}
		if err != nil {
			return fmt.Errorf("reserve stock of %s: %w", l.ProductID, err)
		}
		if n == 0 {
			return fmt.Errorf("stock of %s: %w", l.ProductID, outOfStock(i, l.Name))
		}
	}
	return nil
}

// StockLine is a product and the units an order holds of it.
type StockLine struct {
	ProductID uuid.UUID
	Quantity  int32
}

// Release puts an order's units back in stock, in product order (lines
// come sorted from their query). q must be bound to the transaction whose
// conditional status change cancelled the order: that change matches one
// request only, so the units go back once (docs/12-business-flows.md).
// The staff side (internal/admin) releases through it too.
func Release(ctx context.Context, q *db.Queries, lines []StockLine) error {
	for _, l := range lines {
		if err := q.RestockProduct(ctx, db.RestockProductParams{ID: l.ProductID, Quantity: l.Quantity}); err != nil {
			return fmt.Errorf("release stock of %s: %w", l.ProductID, err)
		}
	}
	return nil
}
