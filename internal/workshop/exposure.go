//go:build workshop

package workshop

import (
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/auth"
)

// GET /users/me, excessive data exposure.
//
// Vulnerable: the users row goes to the encoder as it came from the
// database, password hash and token version included. Anyone with an
// account reads their own hash (and, with any BOLA, everyone's) and
// cracks it offline.
//
// Naive: the same row type with `json:"-"` on the password hash, the one
// field someone thought of. token_version and updated_at still leak, and so
// will the next column anyone adds.
// Secure code: internal/auth/dto.go (userResponse, built field by field by
// toUserResponse; the row type never reaches the encoder).
type userRow struct {
	ID           uuid.UUID `json:"id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	PasswordHash string    `json:"password_hash"`
	Role         string    `json:"role"`
	TokenVersion int32     `json:"token_version"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

type hiddenHashUserRow struct {
	ID           uuid.UUID `json:"id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	PasswordHash string    `json:"-"` // hidden; nothing else is
	Role         string    `json:"role"`
	TokenVersion int32     `json:"token_version"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

func meVulnerable(pool *pgxpool.Pool) echo.HandlerFunc {
	return func(c *echo.Context) error { return meAsRow[userRow](c, pool) }
}

func meNaive(pool *pgxpool.Pool) echo.HandlerFunc {
	return func(c *echo.Context) error { return meAsRow[hiddenHashUserRow](c, pool) }
}

// meAsRow loads the caller's row into T and encodes T as it is.
func meAsRow[T any](c *echo.Context, pool *pgxpool.Pool) error {
	rows, _ := pool.Query(c.Request().Context(), `SELECT * FROM users WHERE id = $1`, auth.UserID(c))
	u, err := pgx.CollectOneRow(rows, pgx.RowToStructByName[T])
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}
