package coupons

import "time"

// createRequest is what staff send to create a coupon: one kind of
// discount, a limit and an expiry. The code is not a field: the server
// draws it (NewCode), so no one picks a guessable one.
type createRequest struct {
	PercentOff     *int32    `json:"percent_off" validate:"omitempty,min=1,max=100"`
	AmountOffCents *int64    `json:"amount_off_cents" validate:"omitempty,min=1,max=100000000"`
	Currency       string    `json:"currency" validate:"omitempty,len=3,uppercase,alpha"`
	MaxRedemptions int32     `json:"max_redemptions" validate:"required,min=1,max=1000000"`
	ExpiresAt      time.Time `json:"expires_at" validate:"required"`
}

// couponResponse is a coupon as staff see it: the hint, never the code.
type couponResponse struct {
	ID             string    `json:"id"`
	CodeHint       string    `json:"code_hint"`
	PercentOff     *int32    `json:"percent_off"`
	AmountOffCents *int64    `json:"amount_off_cents"`
	Currency       string    `json:"currency"`
	MaxRedemptions int32     `json:"max_redemptions"`
	Redeemed       int32     `json:"redeemed"`
	ExpiresAt      time.Time `json:"expires_at"`
	CreatedAt      time.Time `json:"created_at"`
}

// createdResponse is the answer to a creation, the one time the code is
// shown.
type createdResponse struct {
	couponResponse
	Code string `json:"code"`
}

type listResponse struct {
	Items []couponResponse `json:"items"`
}

func toCouponResponse(c Coupon) couponResponse {
	return couponResponse{
		ID: c.ID.String(), CodeHint: c.CodeHint, PercentOff: c.PercentOff, AmountOffCents: c.AmountOffCents, Currency: c.Currency,
		MaxRedemptions: c.MaxRedemptions, Redeemed: c.Redeemed, ExpiresAt: c.ExpiresAt, CreatedAt: c.CreatedAt,
	}
}

func toListResponse(cs []Coupon) listResponse {
	out := listResponse{Items: make([]couponResponse, 0, len(cs))}
	for _, c := range cs {
		out.Items = append(out.Items, toCouponResponse(c))
	}
	return out
}
