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

// Redemption is a coupon priced for an order inside the order's
// transaction: Price reads its terms and computes the discount, and Redeem
// takes one use of it once the order row exists. If the transaction rolls
// back, both go.
type Redemption struct {
	CouponID uuid.UUID
	Discount int64
}

// Price looks up the coupon with the canonical code and computes what it
// takes off an order of subtotal cents in currency. It decides nothing
// about whether the coupon may still be used: Redeem does, in the write.
func Price(ctx context.Context, q *db.Queries, canonical string, subtotal int64, currency string) (Redemption, error) {
	row, err := q.GetCouponTerms(ctx, Hash(canonical))
	if errors.Is(err, pgx.ErrNoRows) {
		return Redemption{}, ErrUnknown
	}
	if err != nil {
		return Redemption{}, fmt.Errorf("load coupon: %w", err)
	}
	discount, err := Terms{PercentOff: row.PercentOff, AmountOffCents: row.AmountOffCents, Currency: row.Currency}.Discount(subtotal, currency)
	if err != nil {
		return Redemption{}, fmt.Errorf("coupon %s: %w", row.ID, err)
	}
	return Redemption{CouponID: row.ID, Discount: discount}, nil
}

// Redeem takes one use of the coupon for customer's order. q must be bound
// to the order's transaction, and the caller should redeem late in it: the
// coupon's row stays locked until the transaction ends.
//
// The global limit and the expiry are checked by the UPDATE that takes the
// use (RedeemCoupon), not by a read before it: a burst of orders with the
// same code waits on the coupon's row lock, and each re-checks the limit
// against the count the previous one committed. The primary key
// (coupon_id, user_id) of the redemption then allows one use per
// customer: a second one, even from a parallel request, fails with
// ErrAlreadyUsed, and the caller's transaction (the order, the counter)
// rolls back.
func (r Redemption) Redeem(ctx context.Context, q *db.Queries, customer, order uuid.UUID) error {
	n, err := q.RedeemCoupon(ctx, r.CouponID)
	// The CHECK behind the WHERE clause: reached only if the clause were
	// gone, and then it still refuses the use past the limit.
	if postgres.IsCheckViolation(err, "coupons_redeemed_within_limit") {
		return fmt.Errorf("coupon %s over its limit: %w", r.CouponID, ErrSpent)
	}
	if err != nil {
		return fmt.Errorf("redeem coupon %s: %w", r.CouponID, err)
	}
	if n == 0 {
		return whyNot(ctx, q, r.CouponID)
	}
	err = q.CreateCouponRedemption(ctx, db.CreateCouponRedemptionParams{CouponID: r.CouponID, UserID: customer, OrderID: order, DiscountCents: r.Discount})
	if postgres.IsUniqueViolation(err, "coupon_redemptions_one_per_customer") {
		return fmt.Errorf("coupon %s by %s: %w", r.CouponID, customer, ErrAlreadyUsed)
	}
	if err != nil {
		return fmt.Errorf("record redemption: %w", err)
	}
	return nil
}

// whyNot names the reason a redemption matched no row. It only explains a
// refusal the UPDATE already made; it decides nothing.
func whyNot(ctx context.Context, q *db.Queries, id uuid.UUID) error {
	state, err := q.GetCouponState(ctx, id)
	switch {
	case err != nil:
		return fmt.Errorf("load coupon state: %w", err)
	case state.Expired:
		return ErrExpired
	default:
		return fmt.Errorf("coupon %s spent (%d of %d): %w", id, state.Redeemed, state.MaxRedemptions, ErrSpent)
	}
}
