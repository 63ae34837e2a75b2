//go:build workshop

package workshop

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/auth"
	"github.com/bulwark-dev/bulwark/internal/db"
	"github.com/bulwark-dev/bulwark/internal/web"
)

// ErrorHandler switches between the secure error handler and two variants.
//
// Vulnerable: every error's own text goes to the client: driver messages,
// SQL, Go type names, file paths.
//
// Naive: 5xx bodies are generic, but 4xx bodies still carry the binder's
// and validator's raw text, which names Go types and internals.
// Secure code: internal/web/errors.go.
func ErrorHandler(b *Board, secure echo.HTTPErrorHandler, logger *slog.Logger) echo.HTTPErrorHandler {
	return func(c *echo.Context, err error) {
		variant := b.Get("errors")
		if variant == Secure {
			secure(c, err)
			return
		}
		status := web.StatusOf(err)
		detail := err.Error()
		if variant == Naive && status >= 500 {
			detail = "Internal Server Error"
		}
		logger.Info("workshop error handler", "variant", variant, "status", status)
		c.Response().Header().Set("Content-Type", "application/problem+json")
		_ = c.JSON(status, map[string]any{"type": "about:blank", "title": http.StatusText(status), "status": status, "detail": detail})
	}
}

// registerUnmapped is POST /auth/register as it is often first written:
// the store hands the insert's error up as it came from the driver, so an
// email that is already taken is not a 409 but a 500 whose error text is
// PostgreSQL's own, naming the table's unique constraint. Together with the
// vulnerable error handler that text reaches the client; the naive handler
// hides it behind "Internal Server Error", which is why the naive fix looks
// done to whoever tested it with this request.
// Secure code: internal/auth/store.go (createUser maps SQLSTATE 23505 to
// ErrEmailTaken) and internal/web/errors.go.
func registerUnmapped(pool *pgxpool.Pool, hasher *auth.Hasher) echo.HandlerFunc {
	return func(c *echo.Context) error {
		var req struct {
			Email    string `json:"email"`
			Password string `json:"password"`
			Name     string `json:"name"`
		}
		if err := c.Bind(&req); err != nil {
			return err
		}
		ctx := c.Request().Context()
		hash, err := hasher.Hash(ctx, req.Password)
		if err != nil {
			return err
		}
		row, err := db.New(pool).CreateUser(ctx, db.CreateUserParams{
			ID: uuid.New(), Email: auth.NormalizeEmail(req.Email), Name: req.Name, PasswordHash: hash, Role: auth.RoleCustomer,
		})
		if err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		return c.JSON(http.StatusCreated, map[string]any{"id": row.ID, "email": row.Email, "name": row.Name, "role": row.Role, "created_at": row.CreatedAt})
	}
}
