//go:build workshop

package workshop

import (
	"embed"
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/admin"
)

// The staff dashboard's variants (issue "validation", the stored XSS half;
// docs/07-nested-validation.md). The page, app.js and app.css stay the
// secure build's; what changes is render.js, the one file that puts
// customer text into the page, and the page's Content-Security-Policy.
// Secure: internal/admin/dashboard/render.js (textContent only) and
// web.PageCSP (internal/web/pageheaders.go).

//go:embed dashboard/*.js
var dashboardVariants embed.FS //nolint:gochecknoglobals // go:embed needs a package-level variable.

// dashboardPageVulnerable serves the page with no CSP at all: whatever
// markup render.js creates may run.
func dashboardPageVulnerable() echo.HandlerFunc {
	page := admin.DashboardFile("index.html")
	return func(c *echo.Context) error {
		c.Response().Header().Del("Content-Security-Policy")
		return page(c)
	}
}

// dashboardPageNaive serves the page with the tempting policy: it looks
// strict (default-src 'self', no plugins, no framing), but 'unsafe-inline'
// in script-src, added because "inline handlers stopped working", allows
// exactly what a stored payload uses: injected <script> elements and on*=
// event handlers.
func dashboardPageNaive() echo.HandlerFunc {
	page := admin.DashboardFile("index.html")
	return func(c *echo.Context) error {
		c.Response().Header().Set("Content-Security-Policy",
			"default-src 'self'; script-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'")
		return page(c)
	}
}

// dashboardRender serves one of the render.js variants above.
func dashboardRender(name string) echo.HandlerFunc {
	body, err := dashboardVariants.ReadFile("dashboard/" + name)
	if err != nil {
		panic("workshop: dashboard variant " + name + " is not embedded")
	}
	return func(c *echo.Context) error {
		return c.Blob(http.StatusOK, "text/javascript; charset=utf-8", body)
	}
}
