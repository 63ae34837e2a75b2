package auth

import (
	"fmt"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/web"
	"github.com/bulwark-dev/bulwark/internal/web/secevent"
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
			// RequireRole has already held the token to its session on the
			// staff routes this guards (elsewhere the handler's first
			// statement would): a stepped-up token of a session since
			// ended acts on nothing.
			if err := recentFactor(tokenOf(c).MFAAt, time.Now(), maxAge); err != nil {
				secevent.Emit(c.Request().Context(), secevent.StaffForbidden, secevent.ReasonStepUp)
				return &web.Typed{Type: StepUpRequiredType, Err: err}
			}
			return next(c)
		}
	}
}

// recentFactor says why a second factor checked at at (zero: none) is not
// recent enough at now, or nil when it is.
func recentFactor(at, now time.Time, maxAge time.Duration) error {
	if at.IsZero() {
		return fmt.Errorf("token has no second factor: %w", ErrStepUpRequired)
	}
	// A factor dated in the future beyond the clock leeway is not one this
	// service recorded.
	if now.Sub(at) > maxAge || at.Sub(now) > leeway {
		return fmt.Errorf("second factor from %s: %w", at.Format(time.RFC3339), ErrStepUpRequired)
	}
	return nil
}
