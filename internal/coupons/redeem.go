package coupons

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bulwark-dev/bulwark/internal/db"
	"github.com/bulwark-dev/bulwark/internal/postgres"
)

// Redemption is a use of a coupon claimed inside an order's transaction:
// the coupon's counter is already taken, and Record writes who used it
// once the order row exists. If the transaction rolls back, both go.
type Redemption struct {
	CouponID uuid.UUID
	Discount int64
}

// Claim takes one redemption of the coupon with the canonical code for an
// order of subtotal cents in currency, and returns the discount. q must
// be bound to the order's transaction.
//
// The global limit and the expiry are checked by the UPDATE that takes
// the redemption (RedeemCoupon), not by a read before it: a burst of
// orders with the same code waits on the coupon's row lock, and each
// re-checks the limit against the count the previous one committed.
func Claim(ctx context.Context, q *db.Queries, canonical string, subtotal int64, currency string) (Redemption, error) {
	hash := Hash(canonical)
	row, err := q.RedeemCoupon(ctx, hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return Redemption{}, whyNot(ctx, q, hash)
	}
	// The CHECK behind the WHERE clause: reached only if the clause were
	// gone, and then it still refuses the redemption past the limit.
	if postgres.IsCheckViolation(err, "coupons_redeemed_within_limit") {
		return Redemption{}, fmt.Errorf("coupon over its limit: %w", ErrSpent)
	}
	if err != nil {
		return Redemption{}, fmt.Errorf("redeem coupon: %w", err)
	}
	discount, err := Terms{PercentOff: row.PercentOff, AmountOffCents: row.AmountOffCents, Currency: row.Currency}.Discount(subtotal, currency)
	if err != nil {
		return Redemption{}, fmt.Errorf("coupon %s: %w", row.ID, err)
	}
	return Redemption{CouponID: row.ID, Discount: discount}, nil
}

// whyNot names the reason a redemption matched no row. It only explains a
// refusal the UPDATE already made; it decides nothing.
func whyNot(ctx context.Context, q *db.Queries, hash []byte) error {
	state, err := q.GetCouponState(ctx, hash)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return ErrUnknown
	case err != nil:
		return fmt.Errorf("load coupon state: %w", err)
	case state.Expired:
		return ErrExpired
	default:
		return fmt.Errorf("coupon spent (%d of %d): %w", state.Redeemed, state.MaxRedemptions, ErrSpent)
	}
}

// Record writes the redemption for customer's order. The primary key
// (coupon_id, user_id) allows one per customer: a second one, even from a
// parallel request, fails here with ErrAlreadyUsed, and the caller's
// transaction (the order, the counter) rolls back.
func (r Redemption) Record(ctx context.Context, q *db.Queries, customer, order uuid.UUID) error {
	err := q.CreateCouponRedemption(ctx, db.CreateCouponRedemptionParams{CouponID: r.CouponID, UserID: customer, OrderID: order, DiscountCents: r.Discount})
	if postgres.IsUniqueViolation(err, "coupon_redemptions_one_per_customer") {
		return fmt.Errorf("coupon %s by %s: %w", r.CouponID, customer, ErrAlreadyUsed)
	}
	if err != nil {
		return fmt.Errorf("record redemption: %w", err)
	}
	return nil
}
