//go:build workshop

package workshop

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/auth"
)

// Wrap switches the handlers of the routes internal/app/routes.go passes
// through Parts.Wrap. Each such route belongs to one issue; per request,
// that issue's switch picks the secure handler or a variant.
func Wrap(b *Board, pool *pgxpool.Pool, hasher *auth.Hasher, storageDir string, secure func(string, echo.HandlerFunc) echo.HandlerFunc) func(string, echo.HandlerFunc) echo.HandlerFunc {
	byRoute := map[string]struct {
		issue             string
		vulnerable, naive echo.HandlerFunc
	}{
		"PATCH /users/me": {"mass-assignment", updateMeVulnerable(pool), updateMeNaive(pool)},
		"GET /users/me":   {"exposure", meVulnerable(pool), meNaive(pool)},
		"GET /orders":     {"sqli", listOrdersVulnerable(pool), listOrdersNaive(pool)},
		"GET /downloads":  {"files", downloadVulnerable(storageDir), downloadNaive(storageDir)},
		// The dashboard's stored XSS half of "validation" (dashboard.go).
		"GET /admin/":          {"validation", dashboardPageVulnerable(), dashboardPageNaive()},
		"GET /admin/render.js": {"validation", dashboardRender("render-vulnerable.js"), dashboardRender("render-naive.js")},
		// Both error variants register without mapping the unique
		// violation; the error handler (errors.go) decides what leaks.
		"POST /auth/register": {"errors", registerUnmapped(pool, hasher), registerUnmapped(pool, hasher)},
	}
	// Requests a route's variants leave to the secure handler, whatever
	// the switch says.
	secureServes := map[string]func(*echo.Context) bool{
		"GET /orders": sortlessOrContinued,
	}
	return func(route string, h echo.HandlerFunc) echo.HandlerFunc {
		h = secure(route, h)
		v, ok := byRoute[route]
		if !ok {
			return h
		}
		return func(c *echo.Context) error {
			if leave, ok := secureServes[route]; ok && leave(c) {
				return h(c)
			}
			switch b.Get(v.issue) {
			case Vulnerable:
				return v.vulnerable(c)
			case Naive:
				return v.naive(c)
			default:
				return h(c)
			}
		}
	}
}
