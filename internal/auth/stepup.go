package auth

import (
	"fmt"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/web"
)

// StepUpMaxAge is how recent a second factor must be for the most
// sensitive operations (a refund, a new coupon), whatever the age of the
// session.
const StepUpMaxAge = 5 * time.Minute

// RequireRecentMFA lets a request through only if its access token
// records a second factor checked within maxAge (Claims.MFAAt, set by a
// login with mfa_code or by POST /auth/mfa/step-up). Otherwise: 403 with
// the problem type StepUpRequiredType, which tells a client to step up and
// retry. A stolen session, or a password alone, cannot refund; an
// account without a second factor cannot either, and the MFA report shows
// it (docs/12-business-flows.md). It runs after Authenticate.
func RequireRecentMFA(maxAge time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			claims, ok := c.Get(claimsKey).(*Claims)
			if !ok {
				panic("auth.RequireRecentMFA on a route without auth.Authenticate")
			}
			now := time.Now()
			if claims.MFAAt == nil {
				return &web.Typed{Type: StepUpRequiredType, Err: fmt.Errorf("token has no second factor: %w", ErrStepUpRequired)}
			}
			at := claims.MFAAt.Time
			// A factor dated in the future beyond the clock leeway is
			// not one this service recorded.
			if now.Sub(at) > maxAge || at.Sub(now) > leeway {
				return &web.Typed{Type: StepUpRequiredType, Err: fmt.Errorf("second factor from %s: %w", at.Format(time.RFC3339), ErrStepUpRequired)}
			}
			return next(c)
		}
	}
}
