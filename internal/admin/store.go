package admin

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bulwark-dev/bulwark/internal/audit"
	"github.com/bulwark-dev/bulwark/internal/db"
	"github.com/bulwark-dev/bulwark/internal/orders"
	"github.com/bulwark-dev/bulwark/internal/postgres"
)

var errNoRow = errors.New("no such row") //nolint:gochecknoglobals // sentinel.

// Store runs the Admin... queries: the only order queries without an owner
// in their WHERE clause, reachable only through the admin routes. The
// staff lists among them are in the orders' list table, which holds both
// scopes of every sort and filter (orders.ListForStaff).
type Store struct {
	pool *pgxpool.Pool
	q    *db.Queries
}

// Its queries run as the request's identity,
// which auth.RequireRole makes the staff scope (postgres.Scoped,
// docs/01-bola.md); so do its transactions (postgres.WithTx).
func NewStore(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, q: db.New(postgres.Scoped(pool))}
}

// toOrder makes the staff view of an order from a row of any staff query.
func toOrder(r orders.StaffRow) (Order, error) {
	o, err := r.Order()
	return Order{Order: o, InternalNote: r.InternalNote, CustomerName: r.CustomerName, CustomerEmail: r.CustomerEmail}, err
}

func (s *Store) get(ctx context.Context, id uuid.UUID) (Order, error) {
	row, err := s.q.AdminGetOrder(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Order{}, fmt.Errorf("order %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Order{}, fmt.Errorf("load order %s: %w", id, err)
	}
	out, err := s.withItems(ctx, []orders.StaffRow{orders.StaffRow(row)})
	if err != nil {
		return Order{}, err
	}
	return out[0], nil
}

// list fetches a page of every customer's orders (orders.ListPage) with
// the staff query the orders' list table holds for p's sort and filter.
func (s *Store) list(ctx context.Context, p orders.ListParams) ([]Order, error) {
	rows, err := orders.ListForStaff(ctx, s.q, p)
	if err != nil {
		return nil, fmt.Errorf("admin list orders: %w", err)
	}
	return s.withItems(ctx, rows)
}

// withItems loads the lines of the whole page in one query (no N+1).
func (s *Store) withItems(ctx context.Context, rows []orders.StaffRow) ([]Order, error) {
	out := make([]Order, 0, len(rows))
	ids := make([]uuid.UUID, 0, len(rows))
	index := make(map[uuid.UUID]int, len(rows))
	for _, r := range rows {
		o, err := toOrder(r)
		if err != nil {
			return nil, err
		}
		index[r.ID] = len(out)
		out = append(out, o)
		ids = append(ids, r.ID)
	}
	if len(ids) == 0 {
		return out, nil
	}
	items, err := s.q.AdminListOrderItems(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("load order items: %w", err)
	}
	for _, it := range items {
		i := index[it.OrderID]
		out[i].Items = append(out[i].Items, orders.Item{ProductID: it.ProductID, Name: it.Name, Quantity: int(it.Quantity), UnitPriceCents: it.UnitPriceCents})
	}
	return out, nil
}

// update moves the order from current's status to next and, when note is
// not nil, replaces the internal note. A move to cancelled undoes what the
// order held (cancelled, refund.go). The audit rows of the change are
// written in the same transaction, so the change and its rows commit
// together or not at all.
func (s *Store) update(ctx context.Context, staff uuid.UUID, current Order, next orders.Status, note *string) error {
	return postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		_, err := q.AdminUpdateOrder(ctx, db.AdminUpdateOrderParams{ID: current.ID, ExpectedStatus: string(current.Status), NewStatus: string(next), InternalNote: note})
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoRow
		}
		if err != nil {
			return fmt.Errorf("update order %s: %w", current.ID, err)
		}
		if err := audit.Write(ctx, tx, orderChange(current, next, note)); err != nil {
			return err
		}
		if next == orders.StatusCancelled && current.Status != orders.StatusCancelled {
			return cancelled(ctx, tx, staff, current)
		}
		return nil
	})
}
