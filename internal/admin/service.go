// Package admin is the staff side: every order of every customer, status
// transitions and the internal note. Its routes sit behind
// auth.RequireRole(admin), which re-reads the role from the database on
// every request (docs/bfla.md, OWASP API5).
package admin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/bulwark-dev/bulwark/internal/orders"
	"github.com/bulwark-dev/bulwark/internal/web"
)

// Errors the handlers return.
const (
	ErrNotFound         = web.NotFound("Order not found.")
	ErrTransition       = web.Conflict("The order cannot move from its current status to the requested one.")
	ErrConcurrentChange = web.Conflict("The order changed while this request was processed; reload and retry.")
	errEmptyUpdate      = web.Invalid("Send status, internal_note or both.")
	// scope is the cursor scope of the staff list.
	scope = "admin"
)

// transitions is the order life cycle staff may drive. Anything not listed
// is refused; cancelled and delivered are final.
func transitions() map[orders.Status][]orders.Status {
	return map[orders.Status][]orders.Status{
		orders.StatusPending: {orders.StatusPaid, orders.StatusCancelled},
		orders.StatusPaid:    {orders.StatusShipped, orders.StatusCancelled},
		orders.StatusShipped: {orders.StatusDelivered},
	}
}

// Order is an order as staff see it: the customer's order plus who placed
// it and the internal note. The payment reference stays out even here:
// nobody's work in this UI needs it.
type Order struct {
	orders.Order
	InternalNote  string
	CustomerName  string
	CustomerEmail string
}

// Page is a page of orders and the next cursor.
type Page struct {
	Orders     []Order
	NextCursor *string
}

// Service holds the staff rules.
type Service struct {
	store   *Store
	cursors *orders.Cursors
	now     func() time.Time
}

// NewService wires the rules.
func NewService(store *Store, cursors *orders.Cursors) *Service {
	return &Service{store: store, cursors: cursors, now: time.Now}
}

// List returns a page of all orders, with the same sort, filter and cursor
// rules as the customer list (the cursor scope differs, so neither list's
// cursors work on the other).
func (s *Service) List(ctx context.Context, p orders.ListParams) (Page, error) {
	rows, err := s.store.list(ctx, p)
	if err != nil {
		return Page{}, err
	}
	if len(rows) <= p.Limit {
		return Page{Orders: rows}, nil
	}
	rows = rows[:p.Limit]
	last := rows[len(rows)-1]
	next := s.cursors.Encode(scope, p.Sort, p.Status, orders.Key{CreatedAt: last.CreatedAt, Total: last.TotalCents, ID: last.ID})
	return Page{Orders: rows, NextCursor: &next}, nil
}

// Update moves an order to a new status and/or replaces its internal note.
func (s *Service) Update(ctx context.Context, id uuid.UUID, status *orders.Status, note *string) (Order, error) {
	current, err := s.store.get(ctx, id)
	if err != nil {
		return Order{}, err
	}
	next := current.Status
	if status != nil && *status != current.Status {
		if !allowed(current.Status, *status) {
			return Order{}, fmt.Errorf("order %s: %s → %s: %w", id, current.Status, *status, ErrTransition)
		}
		next = *status
	}
	err = s.store.update(ctx, id, current.Status, next, note)
	if errors.Is(err, errNoRow) {
		return Order{}, fmt.Errorf("order %s left %s: %w", id, current.Status, ErrConcurrentChange)
	}
	if err != nil {
		return Order{}, err
	}
	return s.store.get(ctx, id)
}

func allowed(from, to orders.Status) bool {
	for _, s := range transitions()[from] {
		if s == to {
			return true
		}
	}
	return false
}
