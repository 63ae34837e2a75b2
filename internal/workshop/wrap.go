//go:build workshop

package workshop

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/auth"
)

// Handlers returns the decorators of the routes whose handlers have
// variants, keyed as internal/app keys its routes (app.Route.Key: method
// and path as registered). Each route belongs to one issue; per request,
// that issue's switch picks the secure handler or a variant. The server
// refuses to start with a key that is no route, and
// internal/app/workshop_test.go checks the same.
func Handlers(b *Board, pool *pgxpool.Pool, hasher *auth.Hasher, storageDir string) map[string]echo.MiddlewareFunc {
	return map[string]echo.MiddlewareFunc{
		"PATCH /api/v1/users/me": b.switched("mass-assignment", updateMeVulnerable(pool), updateMeNaive(pool)),
		"GET /api/v1/users/me":   b.switched("exposure", meVulnerable(pool), meNaive(pool)),
		"GET /api/v1/orders": leaving(sortlessOrContinued,
			b.switched("sqli", listOrdersVulnerable(pool), listOrdersNaive(pool))),
		"GET /api/v1/downloads": b.switched("files", downloadVulnerable(storageDir), downloadNaive(storageDir)),
		// The dashboard's stored XSS half of "validation" (dashboard.go).
		"GET /admin/":          b.switched("validation", dashboardPageVulnerable(), dashboardPageNaive()),
		"GET /admin/render.js": b.switched("validation", dashboardRender("render-vulnerable.js"), dashboardRender("render-naive.js")),
		// Both error variants register without mapping the unique
		// violation; the error handler (errors.go) decides what leaks.
		"POST /api/v1/auth/register": b.switched("errors", registerUnmapped(pool, hasher), registerUnmapped(pool, hasher)),
		// Check-then-act business flows (flows.go); the Idempotency-Key
		// middleware is switched as a part (Idempotent).
		"POST /api/v1/orders":                  b.switched("business-flows", createOrderVariant(pool, false), createOrderVariant(pool, true)),
		"POST /api/v1/orders/:id/cancel":       b.switched("business-flows", cancelVariant(pool, false), cancelVariant(pool, true)),
		"POST /api/v1/admin/orders/:id/refund": b.switched("business-flows", refundVariant(pool, false), refundVariant(pool, true)),
		"GET /api/v1/admin/orders/:id/refunds": b.switched("business-flows", refundsVariant(pool), refundsVariant(pool)),
	}
}

// switched decorates a route's secure handler: per request, the switch of
// issue picks it or one of the variants.
func (b *Board) switched(issue string, vulnerable, naive echo.HandlerFunc) echo.MiddlewareFunc {
	return func(secure echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			switch b.Get(issue) {
			case Vulnerable:
				return vulnerable(c)
			case Naive:
				return naive(c)
			default:
				return secure(c)
			}
		}
	}
}

// leaving hands the requests secureServes picks to the secure handler,
// whatever the switch says, and the others to switched.
func leaving(secureServes func(*echo.Context) bool, switched echo.MiddlewareFunc) echo.MiddlewareFunc {
	return func(secure echo.HandlerFunc) echo.HandlerFunc {
		either := switched(secure)
		return func(c *echo.Context) error {
			if secureServes(c) {
				return secure(c)
			}
			return either(c)
		}
	}
}
