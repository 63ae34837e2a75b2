package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/db"
	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/web"
	"github.com/bulwark-dev/bulwark/internal/web/secevent"
)

// Ending sessions at once (docs/auth.md, "Revocation"). An access token
// names its session (the refresh family) and the user's token version; the
// authenticate middleware compares both with the database on every
// request. So:
//
//	logout                 revokes the family        → that session's tokens end
//	refresh token reuse    revokes the family        → that session's tokens end
//	sign out everywhere    bumps the version, revokes every family
//	password change        the same, with the new hash (a trigger bumps the version)
//	change of role         a trigger bumps the version (00007_token_revocation.sql)

// RefuseEndedSessions answers a request whose statement the database
// refused because the token's session has ended (postgres.ErrSessionEnded)
// exactly as Authenticate answers any other refused token: the same 401,
// header and body, and one token_rejected event. One middleware does it
// for every route, so no handler has to know that its first statement
// may be where a revoked token is found.
func RefuseEndedSessions(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		err := next(c)
		if errors.Is(err, postgres.ErrSessionEnded) {
			secevent.Emit(c.Request().Context(), secevent.TokenRejected, secevent.ReasonTokenSessionEnded)
			return unauthenticated(c, err)
		}
		return err
	}
}

// ErrWrongPassword is the answer to a password change whose current
// password is wrong. It is a 403, not a 401: the caller is signed in, and a
// client must not take it for an expired session and sign out.
const ErrWrongPassword = web.Forbidden("The current password is incorrect.")

type changePasswordRequest struct {
	CurrentPassword string `json:"current_password" validate:"required,max=128"`
	NewPassword     string `json:"new_password" validate:"required,min=12,max=128,nefield=CurrentPassword"`
}

// ChangePassword checks the caller's current password, stores the new one
// (argon2id) and ends every session of the account, this one included: the
// client signs in again with the new password.
func (s *Service) ChangePassword(ctx context.Context, id uuid.UUID, current, next string) error {
	hash, err := s.store.passwordHash(ctx, id)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	ok, err := s.hasher.Verify(ctx, current, hash)
	if err != nil {
		return fmt.Errorf("verify password of %s: %w", id, err)
	}
	if !ok {
		return ErrWrongPassword
	}
	newHash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	return s.store.endSessions(ctx, id, func(ctx context.Context, q *db.Queries) error {
		if err := q.UpdateUserPassword(ctx, db.UpdateUserPasswordParams{ID: id, PasswordHash: newHash}); err != nil {
			return fmt.Errorf("store password of %s: %w", id, err)
		}
		return nil
	})
}

// SignOutEverywhere ends every session of the account: its refresh tokens
// are revoked and its access tokens refused from the next request on.
func (s *Service) SignOutEverywhere(ctx context.Context, id uuid.UUID) error {
	return s.store.endSessions(ctx, id, func(ctx context.Context, q *db.Queries) error {
		if err := q.BumpTokenVersion(ctx, id); err != nil {
			return fmt.Errorf("bump token version of %s: %w", id, err)
		}
		return nil
	})
}

// ChangePassword handles POST /users/me/password.
func (h *Handler) ChangePassword(c *echo.Context) error {
	var req changePasswordRequest
	if err := c.Bind(&req); err != nil {
		return err
	}
	if err := h.svc.ChangePassword(c.Request().Context(), UserID(c), req.CurrentPassword, req.NewPassword); err != nil {
		return err
	}
	return c.NoContent(204)
}

// LogoutAll handles POST /auth/logout-all ("sign out everywhere").
func (h *Handler) LogoutAll(c *echo.Context) error {
	if err := h.svc.SignOutEverywhere(c.Request().Context(), UserID(c)); err != nil {
		return err
	}
	return c.NoContent(204)
}
