package coupons

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bulwark-dev/bulwark/internal/audit"
	"github.com/bulwark-dev/bulwark/internal/db"
	"github.com/bulwark-dev/bulwark/internal/postgres"
)

// ActionCreate is the audit trail's name for a new coupon.
const ActionCreate = "coupon.create"

// Store runs the staff side's SQL. Redemptions run in the order's
// transaction instead (Claim, Record, redeem.go).
type Store struct {
	pool *pgxpool.Pool
	q    *db.Queries
}

// NewStore builds the store on the request's identity: the staff routes
// run it in the staff scope (auth.RequireRole), the only one row-level
// security lets create coupons (postgres.Scoped, docs/01-bola.md); so do
// its transactions (postgres.WithTx).
func NewStore(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, q: db.New(postgres.Scoped(pool))}
}

// create stores the coupon and its audit row in one transaction: a coupon
// without its row, or a row without its coupon, never commits.
func (s *Store) create(ctx context.Context, staff uuid.UUID, canonical string, c NewCoupon) (Coupon, error) {
	var coupon Coupon
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		row, err := s.q.WithTx(tx).CreateCoupon(ctx, db.CreateCouponParams{
			ID: uuid.New(), CodeHash: Hash(canonical), CodeHint: hint(canonical), PercentOff: c.PercentOff, AmountOffCents: c.AmountOffCents,
			Currency: c.Currency, MaxRedemptions: c.MaxRedemptions, ExpiresAt: c.ExpiresAt, CreatedBy: staff,
		})
		if err != nil {
			// A hash collision of two 100-bit codes would land here, as a 500.
			return fmt.Errorf("insert coupon: %w", err)
		}
		coupon = Coupon(row)
		return audit.Write(ctx, tx, created(coupon))
	})
	return coupon, err
}

// couponFields are a new coupon as the trail records it: its terms and the
// hint, never the code, which is a bearer secret until it is spent.
type couponFields struct {
	CodeHint       string    `json:"code_hint"`
	PercentOff     *int32    `json:"percent_off,omitempty"`
	AmountOffCents *int64    `json:"amount_off_cents,omitempty"`
	Currency       string    `json:"currency"`
	MaxRedemptions int32     `json:"max_redemptions"`
	ExpiresAt      time.Time `json:"expires_at"`
}

// created is the audit entry of a new coupon: nothing before, its terms
// after.
func created(c Coupon) audit.Entry {
	return audit.Entry{Action: ActionCreate, TargetType: "coupon", TargetID: c.ID.String(), After: couponFields{
		CodeHint: c.CodeHint, PercentOff: c.PercentOff, AmountOffCents: c.AmountOffCents, Currency: c.Currency,
		MaxRedemptions: c.MaxRedemptions, ExpiresAt: c.ExpiresAt,
	}}
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
