package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/web"
	"github.com/bulwark-dev/bulwark/internal/web/secevent"
)

const (
	userIDKey = "auth.user_id"
	accessKey = "auth.access"
)

// Sessions is what RequireRole checks a token's session against: the
// auth Store.
type Sessions interface {
	Session(ctx context.Context, user, family uuid.UUID) (SessionState, error)
}

// Authenticate requires a valid bearer access token and records the
// caller. Every failure gets the same 401 and the same body, whatever the
// reason.
//
// A signature is not enough: the token's session must not be revoked and
// its version must be the user's current one (sessions.go), so logout, a
// revoked family, a password change and a change of role end a token at
// once rather than when it expires. That check travels with the request's
// first statement, in the statement that sets its identity
// (postgres.Identity.InSession), so it costs no round trip of its own; a
// statement refused there is answered with the same 401 (RefuseEndedSessions).
// Staff routes read the session before anything else (RequireRole).
// RequireRecentMFA and a step-up read the checked token itself (tokenOf);
// a second factor still only counts inside a live session, since both run
// behind a statement or a read that checks it.
func Authenticate(tokens *Tokens) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			raw, ok := bearerToken(c.Request().Header.Get(echo.HeaderAuthorization))
			if !ok {
				secevent.Emit(c.Request().Context(), secevent.TokenRejected, secevent.ReasonTokenMissing)
				return unauthenticated(c, errNoBearer)
			}
			token, err := tokens.Check(raw)
			if err != nil {
				secevent.Emit(c.Request().Context(), secevent.TokenRejected, rejection(err))
				return unauthenticated(c, err)
			}
			id := token.UserID
			c.Set(userIDKey, id)
			c.Set(accessKey, token)
			web.SetUserIDForLog(c, id.String())
			// Every statement of the request now runs as this customer, in
			// this session: row-level security shows them their own rows
			// and no one else's, whatever a query's WHERE clause forgets
			// (docs/01-bola.md, the second wall), and no statement runs
			// once the session has ended.
			req := c.Request()
			c.SetRequest(req.WithContext(postgres.WithIdentity(req.Context(), postgres.Customer(id).InSession(token.Session, token.Version))))
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

// tokenOf returns the checked access token of the request: its session,
// version and second factor. It panics on a route without Authenticate,
// as UserID does.
func tokenOf(c *echo.Context) Access {
	a, ok := c.Get(accessKey).(Access)
	if !ok {
		panic("auth: a route without auth.Authenticate asked for its token")
	}
	return a
}

// RequireRole lets the request through only if the database, read here
// before anything else, says the caller's session is live and the caller
// has the role. The token's role claim is not trusted: it could be up to
// ACCESS_TOKEN_TTL old, and a demoted admin must lose access at once
// (docs/auth.md, OWASP API5). The read comes before the handler binds a
// byte of the body, so a customer gets the same 403 on a staff route
// whatever they send.
func RequireRole(role string, sessions Sessions) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			id := UserID(c)
			ctx := c.Request().Context()
			identity, _ := postgres.IdentityFrom(ctx)
			family, version, ok := identity.Session()
			if !ok {
				panic("auth.RequireRole called on a route without auth.Authenticate")
			}
			state, err := sessions.Session(ctx, id, family)
			if errors.Is(err, errNoRow) {
				secevent.Emit(ctx, secevent.TokenRejected, secevent.ReasonTokenDeletedUser)
				return unauthenticated(c, errors.New("token for a deleted user"))
			}
			if err != nil {
				return err
			}
			if !state.Live || state.Version != version {
				secevent.Emit(ctx, secevent.TokenRejected, secevent.ReasonTokenSessionEnded)
				return unauthenticated(c, errors.New("session ended"))
			}
			if state.Role != role {
				secevent.Emit(ctx, secevent.StaffForbidden, secevent.ReasonRole)
				return fmt.Errorf("user %s has role %q, route needs %q: %w", id, state.Role, role, ErrForbidden)
			}
			if role == RoleAdmin {
				// Only now, with the role read from the database, does the
				// request get the staff scope that reads every order.
				c.SetRequest(c.Request().WithContext(postgres.WithIdentity(ctx, identity.InScope(postgres.ScopeStaff))))
			}
			return next(c)
		}
	}
}
