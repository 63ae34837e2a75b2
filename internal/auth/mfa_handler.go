package auth

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/web"
	"github.com/bulwark-dev/bulwark/internal/web/secevent"
)

type enrollRequest struct {
	Password string `json:"password" validate:"required,max=128"`
}

type codeRequest struct {
	// A TOTP code (six digits) or a recovery code (XXXX-XXXX-XXXX-XXXX).
	Code string `json:"code" validate:"required,max=32,safetext"`
}

type enrollResponse struct {
	Secret     string `json:"secret"`
	OTPAuthURL string `json:"otpauth_url"`
}

type confirmResponse struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

type stepUpResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

type staffMFAResponse struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

type mfaReportResponse struct {
	Admins     int                `json:"admins"`
	WithoutMFA []staffMFAResponse `json:"without_mfa"`
}

// attempt spends one attempt of the caller's account, from the same
// allowance and backoff as POST /auth/login: a code or a password guessed
// here is a guess there. The returned function gives it back on success.
func (h *Handler) attempt(c *echo.Context) (func(), error) {
	u, err := h.svc.Me(c.Request().Context(), UserID(c))
	if err != nil {
		return nil, err
	}
	account := "account:" + NormalizeEmail(u.Email)
	guesser := account + "|" + web.IPKey(c.RealIP())
	if err := web.CheckBackoff(c, h.limiter, h.loginBackoff, guesser); err != nil {
		return nil, err
	}
	if err := web.Check(c, h.limiter, h.loginPerAccount, account, 1); err != nil {
		return nil, err
	}
	return func() { h.giveBack(c, account, guesser) }, nil
}

// EnrollMFA handles POST /auth/mfa/enroll: the password again, then a new
// TOTP secret, shown this once.
func (h *Handler) EnrollMFA(c *echo.Context) error {
	var req enrollRequest
	if err := c.Bind(&req); err != nil {
		return err
	}
	succeeded, err := h.attempt(c)
	if err != nil {
		return err
	}
	e, err := h.svc.Enroll(c.Request().Context(), UserID(c), req.Password)
	if err != nil {
		return err
	}
	succeeded()
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, enrollResponse{Secret: e.Secret, OTPAuthURL: e.URL})
}

// ConfirmMFA handles POST /auth/mfa/confirm: the first code confirms the
// enrolment; the answer holds the recovery codes, shown this once.
func (h *Handler) ConfirmMFA(c *echo.Context) error {
	var req codeRequest
	if err := c.Bind(&req); err != nil {
		return err
	}
	succeeded, err := h.attempt(c)
	if err != nil {
		return err
	}
	codes, err := h.svc.Confirm(c.Request().Context(), UserID(c), req.Code)
	if err != nil {
		return wrongCode(c, err)
	}
	succeeded()
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, confirmResponse{RecoveryCodes: codes})
}

// StepUp handles POST /auth/mfa/step-up: a second factor inside a session,
// answered with an access token that records it.
func (h *Handler) StepUp(c *echo.Context) error {
	var req codeRequest
	if err := c.Bind(&req); err != nil {
		return err
	}
	succeeded, err := h.attempt(c)
	if err != nil {
		return err
	}
	s, err := h.svc.StepUp(c.Request().Context(), tokenOf(c), req.Code)
	if err != nil {
		return wrongCode(c, err)
	}
	succeeded()
	return c.JSON(http.StatusOK, stepUpResponse{AccessToken: s.AccessToken, TokenType: "Bearer", ExpiresIn: int(s.ExpiresIn / time.Second)})
}

// wrongCode reports a second-factor code refused inside a session as a
// failed sign-in, as one refused at login is: a guessed code is a guess.
func wrongCode(c *echo.Context, err error) error {
	if errors.Is(err, ErrInvalidMFACode) {
		secevent.Emit(c.Request().Context(), secevent.SignInFailed, secevent.ReasonInvalidSecondFactor)
	}
	return err
}

// MFAReport handles GET /admin/reports/mfa: the admin accounts no second
// factor protects.
func (h *Handler) MFAReport(c *echo.Context) error {
	staff, err := h.svc.StaffMFAReport(c.Request().Context())
	if err != nil {
		return err
	}
	out := mfaReportResponse{Admins: len(staff), WithoutMFA: []staffMFAResponse{}}
	for _, s := range staff {
		if !s.MFAEnabled {
			out.WithoutMFA = append(out.WithoutMFA, staffMFAResponse{ID: s.ID.String(), Email: s.Email, Name: s.Name, CreatedAt: s.CreatedAt})
		}
	}
	return c.JSON(http.StatusOK, out)
}
