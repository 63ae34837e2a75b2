package orders

import (
	"errors"

	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/auth"
	"github.com/bulwark-dev/bulwark/internal/coupons"
	"github.com/bulwark-dev/bulwark/internal/web"
)

// couponGuard limits attempts to redeem coupon codes per account and per
// client address (internal/app/limits.go: CouponPerAccount,
// CouponPerAddress), as the login limits do for passwords: every order
// that carries a code spends one from both before the code is looked at,
// atomically, so a parallel burst of guesses cannot all pass the check;
// an order that went through gives it back, so a customer's own coupons
// never use it up. Codes have 100 random bits, so the limit is not what
// makes them unguessable; it is what makes a guesser visible and stops a
// script trying leaked or shared codes by the thousand.
type couponGuard struct {
	limiter    web.Limiter
	perAccount web.Policy
	perAddress web.Policy
}

// errNoCouponLimits is a wiring bug: a handler built without
// LimitCoupons must not take coupon codes unlimited.
var errNoCouponLimits = errors.New("orders: the handler has no coupon limits (LimitCoupons)") //nolint:gochecknoglobals // sentinel.

// LimitCoupons sets the limits of coupon attempts and returns h.
func (h *Handler) LimitCoupons(l web.Limiter, perAccount, perAddress web.Policy) *Handler {
	h.coupons = &couponGuard{limiter: l, perAccount: perAccount, perAddress: perAddress}
	return h
}

func (g *couponGuard) keys(c *echo.Context) (account, address string) {
	return "user:" + auth.UserID(c).String(), web.IPKey(c.RealIP())
}

// spend takes one attempt from the address, then from the account; either
// refusal is a 429 with Retry-After and the RateLimit headers.
func (g *couponGuard) spend(c *echo.Context) error {
	if g == nil {
		return errNoCouponLimits
	}
	account, address := g.keys(c)
	if err := web.Check(c, g.limiter, g.perAddress, address, 1); err != nil {
		return err
	}
	return web.Check(c, g.limiter, g.perAccount, account, 1)
}

// giveBack returns the attempt of an order that went through. Best
// effort, as for logins: the order exists, so a limiter hiccup must not
// turn it into an error.
func (g *couponGuard) giveBack(c *echo.Context) {
	account, address := g.keys(c)
	ctx := c.Request().Context()
	_, _ = g.limiter.Allow(ctx, address, g.perAddress, -1)
	_, _ = g.limiter.Allow(ctx, account, g.perAccount, -1)
}

// parseCoupon is the canonical code of the request's coupon_code, "" for
// none, or a 400 naming the field.
func parseCoupon(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	code, ok := coupons.ParseCode(raw)
	if !ok {
		return "", &web.ValidationError{Fields: []web.FieldError{{Field: "coupon_code", Message: "must be a code as issued: 20 letters and digits, hyphens optional"}}}
	}
	return code, nil
}
