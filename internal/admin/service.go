// Package admin is the staff side: every order of every customer, status
// transitions and the internal note. Its routes sit behind
// auth.RequireRole(admin), which re-reads the role from the database on
// every request (docs/bfla.md, OWASP API5).
package admin

import (
	"context"
	"errors"
	"fmt"

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

// Order is an order as staff see it: the customer's order plus who placed
// it and the internal note. The payment reference stays out even here:
// nobody's work in this UI needs it.
type Order struct {
	orders.Order
	InternalNote  string
	CustomerName  string
	CustomerEmail string
}

// Service holds the staff rules.
type Service struct {
	store   *Store
	cursors *orders.Cursors
}

func NewService(store *Store, cursors *orders.Cursors) *Service {
	return &Service{store: store, cursors: cursors}
}

// List returns the page of all orders that rawQuery asks for, with the same
// sort, filter and cursor rules as a customer's list (orders.ListPage). The
// cursor scope differs, so neither list's cursors work on the other.
func (s *Service) List(ctx context.Context, rawQuery string) (orders.Page[Order], error) {
	return orders.ListPage(rawQuery, s.cursors, scope, func(p orders.ListParams) ([]Order, error) {
		return s.store.list(ctx, p)
	})
}

// Get returns any customer's order, or ErrNotFound.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (Order, error) {
	return s.store.get(ctx, id)
}

// Update moves current to a new status and/or replaces its internal note.
// The move must be one staff may make (orders.Status.StaffMayMove), from
// the status current was read with: if another request moved the order
// since, nothing is written and the answer is ErrConcurrentChange.
func (s *Service) Update(ctx context.Context, staff uuid.UUID, current Order, status *orders.Status, note *string) (Order, error) {
	next := current.Status
	if status != nil && *status != current.Status {
		if !current.Status.StaffMayMove(*status) {
			return Order{}, fmt.Errorf("order %s: %s → %s: %w", current.ID, current.Status, *status, ErrTransition)
		}
		next = *status
	}
	err := s.store.update(ctx, staff, current, next, note)
	if errors.Is(err, errNoRow) {
		return Order{}, fmt.Errorf("order %s left %s: %w", current.ID, current.Status, ErrConcurrentChange)
	}
	if err != nil {
		return Order{}, err
	}
	return s.store.get(ctx, current.ID)
}
