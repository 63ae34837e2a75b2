package orders

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/google/uuid"

	"github.com/bulwark-dev/bulwark/internal/web"
)

// Errors the handlers return; their text is what the client sees.
const (
	// ErrNotFound is the answer for a missing order and for another
	// customer's order alike, so ids cannot be probed for existence.
	ErrNotFound      = web.NotFound("Order not found.")
	ErrNotChangeable = web.Conflict("Only pending orders can be changed.")
	ErrNotCancelable = web.Conflict("Only pending or paid orders can be cancelled.")
)

// Service holds the order rules.
type Service struct {
	store   *Store
	cursors *Cursors
}

func NewService(store *Store, cursors *Cursors) *Service {
	return &Service{store: store, cursors: cursors}
}

// Create places an order for owner. Prices, names and the total are read
// from the catalogue inside the transaction that writes the order; nothing
// the client sent besides product ids, quantities and a coupon code
// (canonical, or "") reaches the row. The stock and the coupon are taken
// in the same transaction.
func (s *Service) Create(ctx context.Context, owner uuid.UUID, items []NewItem, addr Address, note, coupon string) (Placed, error) {
	ids := make([]uuid.UUID, 0, len(items))
	for _, it := range items {
		ids = append(ids, it.ProductID)
	}
	return s.store.create(ctx, owner, ids, addr, note, coupon, func(catalogue map[uuid.UUID]Product) ([]Item, int64, string, error) {
		return price(items, catalogue)
	})
}

// price turns the customer's choices into priced lines and a total.
func price(items []NewItem, catalogue map[uuid.UUID]Product) ([]Item, int64, string, error) {
	var (
		lines    = make([]Item, 0, len(items))
		total    int64
		currency string
		bad      []web.FieldError
	)
	seen := make(map[uuid.UUID]bool, len(items))
	for i, it := range items {
		// Compared as parsed UUIDs: the DTO's unique check compares the
		// strings, which upper and lower case would slip past.
		if seen[it.ProductID] {
			bad = append(bad, web.FieldError{Field: fmt.Sprintf("items[%d].product_id", i), Message: "lists a product already in the order"})
			continue
		}
		seen[it.ProductID] = true
		p, ok := catalogue[it.ProductID]
		if !ok {
			bad = append(bad, web.FieldError{Field: fmt.Sprintf("items[%d].product_id", i), Message: "is not a product in the catalogue"})
			continue
		}
		if currency != "" && p.Currency != currency {
			bad = append(bad, web.FieldError{Field: fmt.Sprintf("items[%d].product_id", i), Message: "is priced in another currency than the rest of the order"})
			continue
		}
		currency = p.Currency
		// Quantities are at most 1000 and lines at most 50, so this guard
		// only trips on a catalogue price no real product has.
		if p.PriceCents > math.MaxInt64/1000/50 {
			return nil, 0, "", fmt.Errorf("price of %s is out of range", p.ID)
		}
		total += p.PriceCents * int64(it.Quantity)
		lines = append(lines, Item{ProductID: p.ID, Name: p.Name, Quantity: it.Quantity, UnitPriceCents: p.PriceCents})
	}
	if len(bad) > 0 {
		return nil, 0, "", &web.ValidationError{Fields: bad}
	}
	return lines, total, currency, nil
}

// GetForOwner returns the caller's order, or ErrNotFound.
func (s *Service) GetForOwner(ctx context.Context, owner, id uuid.UUID) (Order, error) {
	return s.store.getForOwner(ctx, owner, id)
}

// List returns the page of owner's orders that rawQuery asks for: its
// sort, status filter, limit and cursor (list.go).
func (s *Service) List(ctx context.Context, owner uuid.UUID, rawQuery string) (Page[Order], error) {
	return ListPage(rawQuery, s.cursors, Scope(owner), func(p ListParams) ([]Order, error) {
		return s.store.listForOwner(ctx, owner, p)
	})
}

// UpdateForOwner changes the address and/or note of a pending order; a
// nil argument keeps the stored value.
func (s *Service) UpdateForOwner(ctx context.Context, owner uuid.UUID, current Order, addr *Address, note *string) (Order, error) {
	o, err := s.store.updatePendingForOwner(ctx, owner, current.ID, addr, note)
	if errors.Is(err, errNoRow) {
		return Order{}, fmt.Errorf("order %s is %s: %w", current.ID, current.Status, ErrNotChangeable)
	}
	return o, err
}

// CancelForOwner cancels a pending or paid order.
func (s *Service) CancelForOwner(ctx context.Context, owner uuid.UUID, current Order) (Order, error) {
	o, err := s.store.cancelForOwner(ctx, owner, current.ID)
	if errors.Is(err, errNoRow) {
		return Order{}, fmt.Errorf("order %s is %s: %w", current.ID, current.Status, ErrNotCancelable)
	}
	return o, err
}
