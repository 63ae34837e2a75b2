package orders

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bulwark-dev/bulwark/internal/coupons"
	"github.com/bulwark-dev/bulwark/internal/db"
	"github.com/bulwark-dev/bulwark/internal/postgres"
)

var errNoRow = errors.New("no such row") //nolint:gochecknoglobals // sentinel.

// Store is the only code of this package that runs SQL, besides the list
// table (list.go), whose queries it runs for customers. Every method that
// reads or writes an order takes the owner and passes it to a ...ForOwner
// query, where it is part of the WHERE clause.
type Store struct {
	pool *pgxpool.Pool
	q    *db.Queries
}

// Store's queries run as the request's identity,
// under row-level security (postgres.Scoped, docs/01-bola.md).
func NewStore(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, q: db.New(postgres.Scoped(pool))}
}

// orderRow has the columns every customer-side order query returns. sqlc
// makes one row type per query; they convert to this one because their
// fields are the same, and the compiler checks that they stay the same.
type orderRow orderFields

// orderFields is the field list itself, as an alias, so that convert and
// the list queries' bindings (list.go) accept every sqlc row type with
// exactly these fields (~orderFields).
type orderFields = struct {
	ID              uuid.UUID
	OwnerID         uuid.UUID
	Status          string
	TotalCents      int64
	Currency        string
	ShippingAddress []byte
	Note            string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func (r orderRow) toOrder() (Order, error) {
	var addr Address
	if err := json.Unmarshal(r.ShippingAddress, &addr); err != nil {
		return Order{}, fmt.Errorf("decode address of %s: %w", r.ID, err)
	}
	return Order{
		ID: r.ID, OwnerID: r.OwnerID, Status: Status(r.Status), TotalCents: r.TotalCents, Currency: r.Currency,
		ShippingAddress: addr, Note: r.Note, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}, nil
}

// getForOwner loads an order with its lines in one statement, one round
// trip (GetOrderWithItemsForOwner, docs/performance.md).
func (s *Store) getForOwner(ctx context.Context, owner, id uuid.UUID) (Order, error) {
	row, err := s.q.GetOrderWithItemsForOwner(ctx, db.GetOrderWithItemsForOwnerParams{ID: id, OwnerID: owner})
	if errors.Is(err, pgx.ErrNoRows) {
		return Order{}, fmt.Errorf("order %s for %s: %w", id, owner, ErrNotFound)
	}
	if err != nil {
		return Order{}, fmt.Errorf("load order %s: %w", id, err)
	}
	o, err := orderRow{
		ID: row.ID, OwnerID: row.OwnerID, Status: row.Status, TotalCents: row.TotalCents, Currency: row.Currency,
		ShippingAddress: row.ShippingAddress, Note: row.Note, CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt,
	}.toOrder()
	if err != nil {
		return Order{}, err
	}
	// The four arrays come from one aggregate over the same rows, so they
	// have the same length; a shorter one would be a bug in the query, and
	// is reported rather than read past.
	n := len(row.ItemProductIds)
	if len(row.ItemNames) != n || len(row.ItemQuantities) != n || len(row.ItemUnitPriceCents) != n {
		return Order{}, fmt.Errorf("load order %s: item arrays of different lengths", id)
	}
	if n > 0 {
		o.Items = make([]Item, n)
		for i := range n {
			o.Items[i] = Item{
				ProductID: row.ItemProductIds[i], Name: row.ItemNames[i],
				Quantity: int(row.ItemQuantities[i]), UnitPriceCents: row.ItemUnitPriceCents[i],
			}
		}
	}
	return o, nil
}

// listForOwner fetches a page of owner's orders (ListPage) with the
// owner's query the table holds for p's sort and filter (list.go).
func (s *Store) listForOwner(ctx context.Context, owner uuid.UUID, p ListParams) ([]Order, error) {
	qs, err := p.queries()
	if err != nil {
		return nil, err
	}
	rows, err := qs.owner(ctx, s.q, owner, p.args())
	if err != nil {
		return nil, fmt.Errorf("list orders of %s: %w", owner, err)
	}
	return s.withItems(ctx, s.q, owner, rows)
}

// withItems loads the lines of all the given orders in one query (no N+1)
// and attaches them.
func (s *Store) withItems(ctx context.Context, q *db.Queries, owner uuid.UUID, rows []orderRow) ([]Order, error) {
	orders := make([]Order, 0, len(rows))
	ids := make([]uuid.UUID, 0, len(rows))
	for _, r := range rows {
		o, err := r.toOrder()
		if err != nil {
			return nil, err
		}
		orders = append(orders, o)
		ids = append(ids, r.ID)
	}
	if len(ids) == 0 {
		return orders, nil
	}
	items, err := q.ListOrderItemsForOwner(ctx, db.ListOrderItemsForOwnerParams{OrderIds: ids, OwnerID: owner})
	if err != nil {
		return nil, fmt.Errorf("load order items: %w", err)
	}
	attachItems(orders, items)
	return orders, nil
}

// attachItems puts each line on its order.
func attachItems(orders []Order, items []db.OrderItem) {
	index := make(map[uuid.UUID]int, len(orders))
	for i, o := range orders {
		index[o.ID] = i
	}
	for _, it := range items {
		if i, ok := index[it.OrderID]; ok {
			orders[i].Items = append(orders[i].Items, Item{ProductID: it.ProductID, Name: it.Name, Quantity: int(it.Quantity), UnitPriceCents: it.UnitPriceCents})
		}
	}
}

// create writes an order and its lines in one transaction. priceLines runs
// inside it, on catalogue rows read inside it; the stock and the coupon
// (a canonical code, or "") are taken inside it too, so a refusal of
// either leaves nothing behind (docs/12-business-flows.md).
func (s *Store) create(ctx context.Context, owner uuid.UUID, productIDs []uuid.UUID, addr Address, note, coupon string,
	priceLines func(map[uuid.UUID]Product) ([]Item, int64, string, error),
) (Placed, error) {
	addrJSON, err := json.Marshal(addr)
	if err != nil {
		return Placed{}, fmt.Errorf("encode address: %w", err)
	}
	var order Placed
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		rows, err := q.GetProductsByIDs(ctx, productIDs)
		if err != nil {
			return fmt.Errorf("load products: %w", err)
		}
		catalogue := make(map[uuid.UUID]Product, len(rows))
		for _, r := range rows {
			catalogue[r.ID] = Product{ID: r.ID, Name: r.Name, PriceCents: r.PriceCents, Currency: r.Currency}
		}
		lines, total, currency, err := priceLines(catalogue)
		if err != nil {
			return err
		}
		var redemption coupons.Redemption
		if coupon != "" {
			if redemption, err = coupons.Price(ctx, q, coupon, total, currency); err != nil {
				return err
			}
		}
		row, err := q.CreateOrderForOwner(ctx, db.CreateOrderForOwnerParams{
			ID: uuid.New(), OwnerID: owner, TotalCents: total - redemption.Discount, Currency: currency, ShippingAddress: addrJSON, Note: note,
		})
		if err != nil {
			return fmt.Errorf("insert order: %w", err)
		}
		// One array per column; the line number is the position.
		items := db.CreateOrderItemsParams{OrderID: row.ID}
		for _, l := range lines {
			items.ProductIds = append(items.ProductIds, l.ProductID)
			items.Names = append(items.Names, l.Name)
			items.Quantities = append(items.Quantities, int32(l.Quantity)) //nolint:gosec // quantity is at most 1000.
			items.UnitPriceCents = append(items.UnitPriceCents, l.UnitPriceCents)
		}
		if err := q.CreateOrderItems(ctx, items); err != nil {
			return fmt.Errorf("insert order items: %w", err)
		}
		// The rows every order of a flash sale shares, the coupon's and the
		// product's, are taken last: each stays locked until COMMIT, so the
		// later they are taken, the less time a burst on one of them queues
		// (tools/bench, measurement 7).
		if coupon != "" {
			if err := redemption.Redeem(ctx, q, owner, row.ID); err != nil {
				return err
			}
		}
		if err := reserve(ctx, q, lines); err != nil {
			return err
		}
		order.Order, err = orderRow(row).toOrder()
		order.Items, order.DiscountCents = lines, redemption.Discount
		return err
	})
	return order, err
}

// updatePendingForOwner changes the given fields (nil = keep) of a pending
// order.
func (s *Store) updatePendingForOwner(ctx context.Context, owner, id uuid.UUID, addr *Address, note *string) (Order, error) {
	var addrJSON []byte
	if addr != nil {
		var err error
		if addrJSON, err = json.Marshal(addr); err != nil {
			return Order{}, fmt.Errorf("encode address: %w", err)
		}
	}
	row, err := s.q.UpdatePendingOrderForOwner(ctx, db.UpdatePendingOrderForOwnerParams{ID: id, OwnerID: owner, ShippingAddress: addrJSON, Note: note})
	return s.afterWrite(ctx, owner, orderRow(row), err)
}

func (s *Store) cancelForOwner(ctx context.Context, owner, id uuid.UUID) (Order, error) {
	var order Order
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		order, err = s.cancelAndRelease(ctx, s.q.WithTx(tx), owner, id)
		return err
	})
	return order, err
}

func (s *Store) afterWrite(ctx context.Context, owner uuid.UUID, row orderRow, err error) (Order, error) {
	if errors.Is(err, pgx.ErrNoRows) {
		return Order{}, errNoRow
	}
	if err != nil {
		return Order{}, fmt.Errorf("update order: %w", err)
	}
	orders, err := s.withItems(ctx, s.q, owner, []orderRow{row})
	if err != nil {
		return Order{}, err
	}
	return orders[0], nil
}
