package payments

import (
	"context"
	"fmt"

	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/web"
)

// ErrNoMatch is the answer for an authentic event that does not fit its
// order: no such order, not pending, or not its exact total and currency.
// Nothing is changed or recorded; the log says which.
const ErrNoMatch = web.Conflict("The event does not match a pending order and its total.")

// Outcome is what a webhook delivery did.
type Outcome string

// Outcomes of a verified event.
const (
	Processed Outcome = "processed" // the order is now paid
	Duplicate Outcome = "duplicate" // this event id was processed before; nothing changed
	Ignored   Outcome = "ignored"   // an event type this service does not act on
)

// Service holds the payment rules.
type Service struct {
	store *Store
}

// NewService wires the rules.
func NewService(store *Store) *Service { return &Service{store: store} }

// requireLiveSession is postgres.RequireLiveSession on the store's pool.
func (s *Service) requireLiveSession(ctx context.Context) error {
	return postgres.RequireLiveSession(ctx, s.store.pool)
}

// Apply acts on a verified, parsed event.
func (s *Service) Apply(ctx context.Context, ev Event) (Outcome, error) {
	if ev.Type != EventPaymentSucceeded {
		return Ignored, nil
	}
	applied, err := s.store.paySucceeded(ctx, ev)
	if err != nil {
		return "", fmt.Errorf("apply %s: %w", ev.ID, err)
	}
	if !applied {
		return Duplicate, nil
	}
	return Processed, nil
}
