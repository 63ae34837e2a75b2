package coupons

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/bulwark-dev/bulwark/internal/web"
)

// A coupon lives at most maxLifetime: a forgotten code must not stay
// redeemable for years.
const maxLifetime = 366 * 24 * time.Hour

// Errors of a creation.
const (
	errOneKind  = web.Invalid("Send exactly one of percent_off and amount_off_cents.")
	errExpiry   = web.Invalid("expires_at must be in the future and at most a year away.")
	errCurrency = web.Invalid("currency applies to amount_off_cents only.")
)

// Service holds the staff rules of coupons.
type Service struct {
	store *Store
	now   func() time.Time
}

func NewService(store *Store) *Service { return &Service{store: store, now: time.Now} }

// NewCoupon is a coupon staff asked for.
type NewCoupon struct {
	Terms
	MaxRedemptions int32
	ExpiresAt      time.Time
}

// Create draws a code and stores the coupon with the code's hash; the code
// is returned once, here.
func (s *Service) Create(ctx context.Context, staff uuid.UUID, c NewCoupon) (Created, error) {
	if (c.PercentOff == nil) == (c.AmountOffCents == nil) {
		return Created{}, errOneKind
	}
	if c.PercentOff != nil && c.Currency != "" {
		return Created{}, errCurrency
	}
	if c.Currency == "" {
		c.Currency = "EUR"
	}
	now := s.now()
	if !c.ExpiresAt.After(now) || c.ExpiresAt.After(now.Add(maxLifetime)) {
		return Created{}, errExpiry
	}
	code := NewCode()
	canonical, _ := ParseCode(code)
	coupon, err := s.store.create(ctx, staff, canonical, c)
	if err != nil {
		return Created{}, err
	}
	return Created{Coupon: coupon, Code: code}, nil
}

// List returns the newest coupons, with their redemption counts.
func (s *Service) List(ctx context.Context) ([]Coupon, error) {
	return s.store.list(ctx)
}
