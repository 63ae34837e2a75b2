package auth

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/web"
)

const (
	userIDKey = "auth.user_id"
	claimsKey = "auth.claims"
)

// Authenticate requires a valid bearer access token and records the caller.
// Every failure gets the same 401 and the same body, whatever the reason.
func Authenticate(tokens *Tokens) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			raw, ok := bearerToken(c.Request().Header.Get(echo.HeaderAuthorization))
			if !ok {
				return unauthenticated(c, errors.New("no bearer token"))
			}
			id, claims, err := tokens.Verify(raw)
			if err != nil {
				return unauthenticated(c, err)
			}
			c.Set(userIDKey, id)
			c.Set(claimsKey, claims)
			web.SetUserIDForLog(c, id.String())
			// Every statement of the request now runs as this customer:
			// row-level security shows them their own rows and no one
			// else's, whatever a query's WHERE clause forgets
			// (docs/01-bola.md, the second wall).
			req := c.Request()
			c.SetRequest(req.WithContext(postgres.WithIdentity(req.Context(), postgres.Customer(id))))
			return next(c)
		}
	}
}

func unauthenticated(c *echo.Context, cause error) error {
	c.Response().Header().Set("WWW-Authenticate", `Bearer realm="bulwark"`)
	return fmt.Errorf("%w: %w", ErrUnauthenticated, cause)
}

func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || len(token) > 4096 {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// UserID returns the authenticated caller. It panics when called on a route
// without Authenticate: that is a wiring bug, and failing loudly beats
// serving the request as nobody.
func UserID(c *echo.Context) uuid.UUID {
	id, ok := c.Get(userIDKey).(uuid.UUID)
	if !ok {
		panic("auth.UserID called on a route without auth.Authenticate")
	}
	return id
}

// RequireRole lets the request through only if the database, read now, says
// the caller has the role. The token's role claim is not trusted: it could
// be up to ACCESS_TOKEN_TTL old, and a demoted admin must lose access at
// once (docs/auth.md, OWASP API5).
func RequireRole(store *Store, role string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			id := UserID(c)
			current, err := store.Role(c.Request().Context(), id)
			if errors.Is(err, errNoRow) {
				return unauthenticated(c, errors.New("token for a deleted user"))
			}
			if err != nil {
				return err
			}
			if current != role {
				return fmt.Errorf("user %s has role %q, route needs %q: %w", id, current, role, ErrForbidden)
			}
			if role == RoleAdmin {
				// Only now, with the role read from the database, does the
				// request get the staff scope that reads every order.
				req := c.Request()
				c.SetRequest(req.WithContext(postgres.WithIdentity(req.Context(), postgres.Staff(id))))
			}
			return next(c)
		}
	}
}
