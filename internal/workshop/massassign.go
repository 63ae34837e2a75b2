//go:build workshop

package workshop

import (
	"encoding/json"
	"io"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/auth"
	"github.com/bulwark-dev/bulwark/internal/web"
)

// PATCH /users/me, mass assignment.
//
// Vulnerable: the body is decoded with encoding/json into a struct that
// has the columns a client might send, role among them, and every field
// sent is written. {"name":"Alice","role":"admin"} makes alice an admin.
//
// Naive: a denylist refuses a body with the key "role", then decodes as
// above. encoding/json matches keys case-insensitively, so "Role" passes
// the denylist and lands in the same field.
// Secure code: internal/auth/dto.go (updateMeRequest holds the name and
// nothing else) and internal/web/bind.go (strict decoding: an unknown or
// differently-cased key is a 400).
type userPatch struct {
	Name *string `json:"name"`
	Role *string `json:"role"`
}

func updateMeVulnerable(pool *pgxpool.Pool) echo.HandlerFunc {
	return func(c *echo.Context) error {
		var p userPatch
		if err := json.NewDecoder(c.Request().Body).Decode(&p); err != nil {
			return web.Invalid("The body is not valid JSON.")
		}
		return patchUser(c, pool, p)
	}
}

func updateMeNaive(pool *pgxpool.Pool) echo.HandlerFunc {
	return func(c *echo.Context) error {
		body, err := io.ReadAll(c.Request().Body)
		var keys map[string]json.RawMessage
		if err != nil || json.Unmarshal(body, &keys) != nil {
			return web.Invalid("The body is not valid JSON.")
		}
		if _, ok := keys["role"]; ok { // the denylist, exact key only
			return &web.ValidationError{Fields: []web.FieldError{{Field: "role", Message: "role cannot be changed"}}}
		}
		var p userPatch
		if err := json.Unmarshal(body, &p); err != nil {
			return web.Invalid("The body does not match the expected fields.")
		}
		return patchUser(c, pool, p)
	}
}

// patchUser writes every field the client sent. The name is checked (the
// team did think of that); which fields may be written at all is not.
func patchUser(c *echo.Context, pool *pgxpool.Pool, p userPatch) error {
	if p.Name != nil && (*p.Name == "" || utf8.RuneCountInString(*p.Name) > 100) {
		return &web.ValidationError{Fields: []web.FieldError{{Field: "name", Message: "must be 1 to 100 characters"}}}
	}
	rows, _ := pool.Query(c.Request().Context(), `UPDATE users SET name = coalesce($2, name), role = coalesce($3, role), updated_at = now()
		WHERE id = $1 RETURNING id, email, name, role, created_at`, auth.UserID(c), p.Name, p.Role)
	u, err := pgx.CollectOneRow(rows, pgx.RowToStructByName[struct {
		ID        uuid.UUID `json:"id"`
		Email     string    `json:"email"`
		Name      string    `json:"name"`
		Role      string    `json:"role"`
		CreatedAt time.Time `json:"created_at"`
	}])
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}
