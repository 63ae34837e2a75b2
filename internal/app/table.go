package app

import (
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/config"
	"github.com/bulwark-dev/bulwark/internal/web"
)

// Route is one row of the route table (routes.go).
type Route struct {
	Method string
	Path   string // as echo matches it: /api/v1/orders/:id
	Policy Policy

	handler    echo.HandlerFunc
	middleware []echo.MiddlewareFunc // the route's own, after its policy's
}

// Key names the route where a part refers to it (Parts.Handlers), derived
// from the route itself: "GET /api/v1/orders/:id".
func (r Route) Key() string { return r.Method + " " + r.Path }

// table collects the rows of routes.go. It holds no echo instance: a route
// can only be added as a row, and every row passes register's checks.
type table struct{ rows []Route }

func (t *table) GET(path string, p Policy, h echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
	t.add(http.MethodGet, path, p, h, mw)
}

func (t *table) POST(path string, p Policy, h echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
	t.add(http.MethodPost, path, p, h, mw)
}

func (t *table) PATCH(path string, p Policy, h echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
	t.add(http.MethodPatch, path, p, h, mw)
}

func (t *table) DELETE(path string, p Policy, h echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
	t.add(http.MethodDelete, path, p, h, mw)
}

// otherwise answers the requests under prefix that no row matches: the
// policy's middleware runs, then a 405 with Allow for a path the rows
// added so far serve with other methods, or a 404 (methods.go).
func (t *table) otherwise(prefix string, p Policy, pool *pgxpool.Pool) {
	h := methodNotAllowed(slices.Clone(t.rows), pool)
	t.add(echo.RouteNotFound, prefix, p, h, nil)
	t.add(echo.RouteNotFound, prefix+"/*", p, h, nil)
}

func (t *table) add(method, path string, p Policy, h echo.HandlerFunc, mw []echo.MiddlewareFunc) {
	t.rows = append(t.rows, Route{Method: method, Path: path, Policy: p, handler: h, middleware: mw})
}

// register adds the rows to e, each behind its policy's guard and then its
// own middleware, its handler decorated by decorators[row.Key()] where
// there is one. It refuses, naming the route, a row that declares no
// policy, whose path has an {id} its policy does not resolve (or a policy
// that resolves an {id} its path lacks), whose policy's middleware is
// missing, or that is in the table twice; and a decorator whose key is no
// row, which a route renamed in the table would otherwise leave behind
// without a word.
func register(e *echo.Echo, rows []Route, mw middlewares, decorators map[string]echo.MiddlewareFunc) error {
	seen := make(map[string]bool, len(rows))
	handled := make(map[string]bool, len(rows))
	for _, r := range rows {
		// echo would let the second row replace the first, policy and all.
		if seen[r.Key()] {
			return fmt.Errorf("route %s is in the table twice", r.Key())
		}
		seen[r.Key()] = true
		guard, ok := mw.guard(r.Policy)
		if !ok {
			return fmt.Errorf("route %s declares no policy: say who may call it (internal/app/routes.go)", r.Key())
		}
		// A handler that read {id} from the path unresolved would serve
		// whichever order or file was asked for (docs/01-bola.md).
		if strings.Contains(r.Path, "/:id") != r.Policy.resolvesID() {
			return fmt.Errorf("route %s: a route on an {id}, and only such a route, needs a policy that resolves it (OrderOwner, FileOwner, StaffOrder), not %s", r.Key(), r.Policy)
		}
		if slices.ContainsFunc(guard, func(m echo.MiddlewareFunc) bool { return m == nil }) {
			return fmt.Errorf("route %s: a middleware of policy %s is missing", r.Key(), r.Policy)
		}
		h := r.handler
		if h != nil {
			handled[r.Key()] = true
			if decorate, ok := decorators[r.Key()]; ok {
				h = decorate(h)
			}
		}
		route := echo.Route{Method: r.Method, Path: r.Path, Handler: h, Middlewares: slices.Concat(guard, r.middleware)}
		if _, err := e.AddRoute(route); err != nil {
			return fmt.Errorf("route %s: %w", r.Key(), err)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(decorators)) {
		if !handled[key] {
			return fmt.Errorf("a handler decorator is keyed %q, which is no route (internal/app/routes.go)", key)
		}
	}
	return nil
}

// Routes returns the table New registers for cfg, once New has accepted
// it. No database, storage or limiter is opened and no handler runs.
// tests/openapi_test.go compares it with api/openapi.yaml in both
// directions, and tests/policy_test.go each route's policy with the
// security the document declares for it.
func Routes(cfg config.Config) ([]Route, error) {
	logger := slog.New(slog.DiscardHandler)
	deps := Deps{Config: cfg, Logger: logger}
	parts := SecureParts(cfg, logger, web.NewMemoryLimiter())
	if _, err := New(deps, parts); err != nil {
		return nil, err
	}
	return routes(deps, parts, handlers{}), nil
}
