package auth

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/web"
	"github.com/bulwark-dev/bulwark/internal/web/secevent"
)

// Handler is the HTTP face of the auth service: bind, validate, call, map.
type Handler struct {
	svc     *Service
	limiter web.Limiter
	// loginPerAccount limits failed logins per target account, so spreading
	// a brute force over many IPs does not help (docs/04-rate-limiting.md).
	loginPerAccount web.Policy
	// loginBackoff slows failures per account and address exponentially.
	loginBackoff web.BackoffPolicy
}

func NewHandler(svc *Service, limiter web.Limiter, loginPerAccount web.Policy, loginBackoff web.BackoffPolicy) *Handler {
	return &Handler{svc: svc, limiter: limiter, loginPerAccount: loginPerAccount, loginBackoff: loginBackoff}
}

// Register handles POST /auth/register.
func (h *Handler) Register(c *echo.Context) error {
	var req registerRequest
	if err := c.Bind(&req); err != nil {
		return err
	}
	u, err := h.svc.Register(c.Request().Context(), req.Email, req.Password, req.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toUserResponse(u))
}

// Login handles POST /auth/login.
func (h *Handler) Login(c *echo.Context) error {
	var req loginRequest
	if err := c.Bind(&req); err != nil {
		return err
	}
	// Every attempt spends from the account's allowance before the
	// password is checked, so a burst of concurrent guesses cannot all get
	// past the limit; a successful login gives its token back, so in effect
	// only failures count and the owner's own logins never use it up. A
	// guesser's failures do block the account for a while:
	// docs/04-rate-limiting.md explains that trade-off.
	account := "account:" + NormalizeEmail(req.Email)
	// First the exponential backoff of this account from this address,
	// recorded atomically with the check; then the account's overall
	// allowance, which no spread of addresses gets around.
	guesser := account + "|" + web.IPKey(c.RealIP())
	if err := web.CheckBackoff(c, h.limiter, h.loginBackoff, guesser); err != nil {
		return lockedOut(c, err, h.loginBackoff.Name)
	}
	if err := web.Check(c, h.limiter, h.loginPerAccount, account, 1); err != nil {
		return lockedOut(c, err, h.loginPerAccount.Name)
	}
	s, err := h.svc.Login(c.Request().Context(), req.Email, req.Password, req.MFACode)
	switch {
	case errors.Is(err, ErrInvalidCredentials):
		secevent.Emit(c.Request().Context(), secevent.SignInFailed, secevent.ReasonInvalidCredentials)
	case errors.Is(err, ErrInvalidMFACode):
		secevent.Emit(c.Request().Context(), secevent.SignInFailed, secevent.ReasonInvalidSecondFactor)
	case errors.Is(err, ErrMFARequired):
		// The password was right and no code was tried: the first step of
		// a sign-in with a second factor costs nothing. Every code tried
		// spends from the same allowance as a password.
		h.giveBack(c, account, "")
	}
	if err != nil {
		return err
	}
	h.giveBack(c, account, guesser)
	return c.JSON(http.StatusOK, toTokenResponse(s))
}

// giveBack returns an attempt to the account's allowance and, with a
// guesser key, clears its backoff. Best effort: the password (or code) was
// right, so a limiter hiccup must not turn the success into an error (the
// refund is lost, the limit errs on the strict side).
func (h *Handler) giveBack(c *echo.Context, account, guesser string) {
	ctx := c.Request().Context()
	_, _ = h.limiter.Allow(ctx, account, h.loginPerAccount, -1)
	if guesser != "" {
		_ = h.limiter.Reset(ctx, guesser, h.loginBackoff)
	}
}

// lockedOut reports a login refused by one of the login limits (policy) as
// a Lockout, on top of the RateLimited event every 429 is.
func lockedOut(c *echo.Context, err error, policy string) error {
	var tooMany *web.TooManyRequests
	if errors.As(err, &tooMany) {
		secevent.Emit(c.Request().Context(), secevent.Lockout, secevent.Reason(policy))
	}
	return err
}

// Refresh handles POST /auth/refresh.
func (h *Handler) Refresh(c *echo.Context) error {
	var req refreshRequest
	if err := c.Bind(&req); err != nil {
		return err
	}
	s, err := h.svc.Refresh(c.Request().Context(), req.RefreshToken)
	switch {
	case errors.Is(err, ErrRefreshTokenReused):
		secevent.Emit(c.Request().Context(), secevent.RefreshReuse, secevent.ReasonFamilyRevoked)
	case errors.Is(err, ErrInvalidRefreshToken):
		secevent.Emit(c.Request().Context(), secevent.TokenRejected, secevent.ReasonRefreshInvalid)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toTokenResponse(s))
}

// Logout handles POST /auth/logout.
func (h *Handler) Logout(c *echo.Context) error {
	var req refreshRequest
	if err := c.Bind(&req); err != nil {
		return err
	}
	if err := h.svc.Logout(c.Request().Context(), req.RefreshToken); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// Me handles GET /users/me.
func (h *Handler) Me(c *echo.Context) error {
	u, err := h.svc.Me(c.Request().Context(), UserID(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toUserResponse(u))
}

// UpdateMe handles PATCH /users/me: the name, and nothing else.
func (h *Handler) UpdateMe(c *echo.Context) error {
	var req updateMeRequest
	if err := c.Bind(&req); err != nil {
		return err
	}
	u, err := h.svc.Rename(c.Request().Context(), UserID(c), req.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toUserResponse(u))
}
