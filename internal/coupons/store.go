package coupons

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bulwark-dev/bulwark/internal/db"
	"github.com/bulwark-dev/bulwark/internal/postgres"
)

// Store runs the staff side's SQL. Redemptions run in the order's
// transaction instead (Claim, Record, redeem.go).
type Store struct {
	q *db.Queries
}

// NewStore builds the store on the request's identity: the staff routes
// run it in the staff scope (auth.RequireRole), the only one row-level
// security lets create coupons (postgres.Scoped, docs/01-bola.md).
func NewStore(pool *pgxpool.Pool) *Store { return &Store{q: db.New(postgres.Scoped(pool))} }

func (s *Store) create(ctx context.Context, staff uuid.UUID, canonical string, c NewCoupon) (Coupon, error) {
	row, err := s.q.CreateCoupon(ctx, db.CreateCouponParams{
		ID: uuid.New(), CodeHash: Hash(canonical), CodeHint: hint(canonical), PercentOff: c.PercentOff, AmountOffCents: c.AmountOffCents,
		Currency: c.Currency, MaxRedemptions: c.MaxRedemptions, ExpiresAt: c.ExpiresAt, CreatedBy: staff,
	})
	if err != nil {
		// A hash collision of two 100-bit codes would land here, as a 500.
		return Coupon{}, fmt.Errorf("insert coupon: %w", err)
	}
	return Coupon(row), nil
}

func (s *Store) list(ctx context.Context) ([]Coupon, error) {
	rows, err := s.q.ListCoupons(ctx)
	if err != nil {
		return nil, fmt.Errorf("list coupons: %w", err)
	}
	out := make([]Coupon, 0, len(rows))
	for _, r := range rows {
		out = append(out, Coupon(r))
	}
	return out, nil
}
