package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bulwark-dev/bulwark/internal/db"
	"github.com/bulwark-dev/bulwark/internal/orders"
	"github.com/bulwark-dev/bulwark/internal/postgres"
)

var errNoRow = errors.New("no such row") //nolint:gochecknoglobals // sentinel.

// Store runs the Admin... queries: the only order queries without an owner
// in their WHERE clause, reachable only through the admin routes.
type Store struct {
	q *db.Queries
}

// NewStore wraps the pool. Its queries run as the request's identity,
// which auth.RequireRole makes the staff scope (postgres.Scoped,
// docs/01-bola.md).
func NewStore(pool *pgxpool.Pool) *Store { return &Store{q: db.New(postgres.Scoped(pool))} }

// adminRow has the columns of every Admin order query.
type adminRow adminFields

// adminFields is the field list itself, as an alias, so that convert can
// accept every sqlc row type with exactly these fields (~adminFields).
type adminFields = struct {
	ID              uuid.UUID
	OwnerID         uuid.UUID
	Status          string
	TotalCents      int64
	Currency        string
	ShippingAddress []byte
	Note            string
	InternalNote    string
	CreatedAt       time.Time
	UpdatedAt       time.Time
	CustomerName    string
	CustomerEmail   string
}

func (r adminRow) toOrder() (Order, error) {
	var addr orders.Address
	if err := json.Unmarshal(r.ShippingAddress, &addr); err != nil {
		return Order{}, fmt.Errorf("decode address of %s: %w", r.ID, err)
	}
	return Order{
		Order: orders.Order{
			ID: r.ID, OwnerID: r.OwnerID, Status: orders.Status(r.Status), TotalCents: r.TotalCents, Currency: r.Currency,
			ShippingAddress: addr, Note: r.Note, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		},
		InternalNote: r.InternalNote, CustomerName: r.CustomerName, CustomerEmail: r.CustomerEmail,
	}, nil
}

func (s *Store) get(ctx context.Context, id uuid.UUID) (Order, error) {
	row, err := s.q.AdminGetOrder(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Order{}, fmt.Errorf("order %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Order{}, fmt.Errorf("load order %s: %w", id, err)
	}
	out, err := s.withItems(ctx, []adminRow{adminRow(row)})
	if err != nil {
		return Order{}, err
	}
	return out[0], nil
}

func (s *Store) list(ctx context.Context, p orders.ListParams) ([]Order, error) {
	after := orders.FirstPageKey(p.Sort)
	if p.After != nil {
		after = *p.After
	}
	limit := int32(p.Limit + 1) //nolint:gosec // p.Limit is at most orders.MaxLimit.
	status := string(p.Status)
	var rows []adminRow
	var err error
	switch {
	case p.Status == "" && p.Sort == orders.SortCreatedAsc:
		rows, err = convert(s.q.AdminListOrdersCreatedAsc(ctx, db.AdminListOrdersCreatedAscParams{
			AfterCreatedAt: after.CreatedAt, AfterID: after.ID, PageLimit: limit}))
	case p.Status == "" && p.Sort == orders.SortCreatedDesc:
		rows, err = convert(s.q.AdminListOrdersCreatedDesc(ctx, db.AdminListOrdersCreatedDescParams{
			AfterCreatedAt: after.CreatedAt, AfterID: after.ID, PageLimit: limit}))
	case p.Status == "" && p.Sort == orders.SortTotalAsc:
		rows, err = convert(s.q.AdminListOrdersTotalAsc(ctx, db.AdminListOrdersTotalAscParams{
			AfterTotal: after.Total, AfterID: after.ID, PageLimit: limit}))
	case p.Status == "" && p.Sort == orders.SortTotalDesc:
		rows, err = convert(s.q.AdminListOrdersTotalDesc(ctx, db.AdminListOrdersTotalDescParams{
			AfterTotal: after.Total, AfterID: after.ID, PageLimit: limit}))
	case p.Status != "" && p.Sort == orders.SortCreatedAsc:
		rows, err = convert(s.q.AdminListOrdersWithStatusCreatedAsc(ctx, db.AdminListOrdersWithStatusCreatedAscParams{
			Status: status, AfterCreatedAt: after.CreatedAt, AfterID: after.ID, PageLimit: limit}))
	case p.Status != "" && p.Sort == orders.SortCreatedDesc:
		rows, err = convert(s.q.AdminListOrdersWithStatusCreatedDesc(ctx, db.AdminListOrdersWithStatusCreatedDescParams{
			Status: status, AfterCreatedAt: after.CreatedAt, AfterID: after.ID, PageLimit: limit}))
	case p.Status != "" && p.Sort == orders.SortTotalAsc:
		rows, err = convert(s.q.AdminListOrdersWithStatusTotalAsc(ctx, db.AdminListOrdersWithStatusTotalAscParams{
			Status: status, AfterTotal: after.Total, AfterID: after.ID, PageLimit: limit}))
	case p.Status != "" && p.Sort == orders.SortTotalDesc:
		rows, err = convert(s.q.AdminListOrdersWithStatusTotalDesc(ctx, db.AdminListOrdersWithStatusTotalDescParams{
			Status: status, AfterTotal: after.Total, AfterID: after.ID, PageLimit: limit}))
	default:
		return nil, fmt.Errorf("no query for sort %q", p.Sort)
	}
	if err != nil {
		return nil, fmt.Errorf("admin list orders: %w", err)
	}
	return s.withItems(ctx, rows)
}

func convert[R ~adminFields](rows []R, err error) ([]adminRow, error) {
	if err != nil {
		return nil, err
	}
	out := make([]adminRow, len(rows))
	for i, r := range rows {
		out[i] = adminRow(r)
	}
	return out, nil
}

// withItems loads the lines of the whole page in one query (no N+1).
func (s *Store) withItems(ctx context.Context, rows []adminRow) ([]Order, error) {
	out := make([]Order, 0, len(rows))
	ids := make([]uuid.UUID, 0, len(rows))
	index := make(map[uuid.UUID]int, len(rows))
	for _, r := range rows {
		o, err := r.toOrder()
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

// update moves the order from expected to next and, when note is not nil,
// replaces the internal note.
func (s *Store) update(ctx context.Context, id uuid.UUID, expected, next orders.Status, note *string) error {
	_, err := s.q.AdminUpdateOrder(ctx, db.AdminUpdateOrderParams{ID: id, ExpectedStatus: string(expected), NewStatus: string(next), InternalNote: note})
	if errors.Is(err, pgx.ErrNoRows) {
		return errNoRow
	}
	if err != nil {
		return fmt.Errorf("update order %s: %w", id, err)
	}
	return nil
}
