package app

import (
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/postgres"
)

// A known path asked with a method it does not serve answers 405 with
// Allow (RFC 9110, 15.5.6), but only after the path's policy has run: the
// otherwise rows authenticate first, so without a token it is the same 401
// as any path under /api/v1, and under /api/v1/admin without the role the
// same 403. 405 then tells a signed-in caller nothing the public OpenAPI
// document (GET /api/v1/openapi.yaml) does not already list, while a 404
// would tell a client that a path it just used does not exist, and hide a
// client's method mistake behind a misleading answer. Unknown paths stay
// 404. Both run no statement, so they check the caller's session first:
// a revoked token gets its 401 here too, not a 404.

// methodNotAllowed is the otherwise rows' handler: 405 with the methods rows
// serve at the request's path, or 404 when no row has the path.
func methodNotAllowed(rows []Route, pool *pgxpool.Pool) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if err := postgres.RequireLiveSession(c.Request().Context(), pool); err != nil {
			return err
		}
		path := c.Request().URL.Path
		var allow []string
		for _, r := range rows {
			if r.Method != echo.RouteNotFound && !slices.Contains(allow, r.Method) && matches(r.Path, path) {
				allow = append(allow, r.Method)
			}
		}
		if len(allow) == 0 {
			return echo.ErrNotFound
		}
		slices.Sort(allow)
		c.Response().Header().Set("Allow", strings.Join(allow, ", "))
		return echo.ErrMethodNotAllowed
	}
}

// matches reports whether path is one echo would route to pattern, whose
// segments are literal or a :param (any one non-empty segment).
func matches(pattern, path string) bool {
	ps, qs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(qs) {
		return false
	}
	for i, p := range ps {
		switch {
		case strings.HasPrefix(p, ":"):
			if qs[i] == "" {
				return false
			}
		case p != qs[i]:
			return false
		}
	}
	return true
}
