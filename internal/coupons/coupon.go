// Package coupons is discount codes: staff create them (a percentage or a
// fixed amount, a global redemption limit, one redemption per customer,
// an expiry), and a customer redeems one when placing an order, inside
// the order's own transaction (Claim, Record). Every rule a burst of
// parallel orders could break is held by the database: the global limit
// and the expiry by a conditional UPDATE and a CHECK, one redemption per
// customer by a primary key (db/queries/business_flows.sql,
// docs/12-business-flows.md).
package coupons

import (
	"crypto/rand"
	"crypto/sha256"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/bulwark-dev/bulwark/internal/web"
)

// Errors a redemption or a creation returns; their text is what the client
// sees. None says whether another customer holds or used a code.
const (
	ErrUnknown       = web.Unprocessable("This coupon code is not valid.")
	ErrExpired       = web.Unprocessable("This coupon has expired.")
	ErrSpent         = web.Conflict("This coupon has reached its redemption limit.")
	ErrAlreadyUsed   = web.Conflict("You have already used this coupon.")
	ErrOtherCurrency = web.Unprocessable("This coupon is for orders in another currency.")
)

// Coupon is a coupon as staff see it. The code itself is not a field: it
// is shown once, when it is created (Created), and only its hash is kept.
type Coupon struct {
	ID             uuid.UUID
	CodeHint       string // the last four characters, to tell coupons apart in a list
	PercentOff     *int32
	AmountOffCents *int64
	Currency       string
	MaxRedemptions int32
	Redeemed       int32
	ExpiresAt      time.Time
	CreatedAt      time.Time
}

// Created is a new coupon with its code, returned once.
type Created struct {
	Coupon
	Code string
}

// A code is codeLength characters of the Crockford base32 alphabet (no I,
// L, O or U, which read as 1, 1, 0 and V), from crypto/rand: 100 bits,
// which no guessing rate can dent, limit or no limit. It is shown in
// groups of five, and read back without the hyphens, in either case.
const (
	alphabet   = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	codeLength = 20
	groupSize  = 5
)

// NewCode returns a fresh random code, formatted for people.
func NewCode() string {
	raw := make([]byte, codeLength)
	// rand.Text reads crypto/rand too, but in base32 with letters this
	// alphabet leaves out; 256 is a multiple of 32, so byte % 32 is uniform.
	_, _ = rand.Read(raw) // crypto/rand.Read never fails on supported platforms.
	var b strings.Builder
	for i, r := range raw {
		if i > 0 && i%groupSize == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(alphabet[int(r)%len(alphabet)])
	}
	return b.String()
}

// ParseCode returns the canonical form of a code a customer typed
// (hyphens and spaces dropped, upper case), or false when it cannot be a
// code this service issued: the handler answers that with a 400 before
// the database is asked.
func ParseCode(s string) (string, bool) {
	if len(s) > 2*codeLength {
		return "", false
	}
	s = strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(s))
	if len(s) != codeLength || strings.Trim(s, alphabet) != "" {
		return "", false
	}
	return s, true
}

// Hash is what the database stores and looks up: a SHA-256 of the
// canonical code. The code has 100 random bits, so a plain hash is enough
// (as for refresh tokens, internal/auth): a copy of the coupons table
// redeems nothing, and the lookup is an exact index match.
func Hash(canonical string) []byte {
	sum := sha256.Sum256([]byte(canonical))
	return sum[:]
}

// hint is the last four characters of the canonical code.
func hint(canonical string) string { return canonical[len(canonical)-4:] }

// Terms are what a coupon takes off an order.
type Terms struct {
	PercentOff     *int32
	AmountOffCents *int64
	Currency       string
}

// Discount is what terms take off an order of subtotal cents in currency:
// a percentage rounded down, or a fixed amount in the coupon's currency,
// never more than the subtotal, so a total is never negative.
func (t Terms) Discount(subtotal int64, currency string) (int64, error) {
	switch {
	case t.PercentOff != nil:
		// subtotal is at most 50 lines × 1000 × a price well below
		// MaxInt64/50_000 (orders.price), so ×100 cannot overflow.
		return subtotal * int64(*t.PercentOff) / 100, nil
	case t.AmountOffCents != nil:
		if currency != t.Currency {
			return 0, ErrOtherCurrency
		}
		return min(*t.AmountOffCents, subtotal), nil
	}
	return 0, nil
}
