package admin

import (
	"embed"
	"fmt"
	"net/http"
	"path"

	"github.com/labstack/echo/v5"
)

// dashboardFiles is the staff dashboard: one HTML page, its scripts and its
// style, compiled into the binary, with no build step. The page holds no
// data; it signs in through POST /api/v1/auth/login and reads and changes
// orders only through the staff API, with the bearer token kept in memory.
// Customer text reaches the page only through render.js, as text
// (docs/07-nested-validation.md).
//
//go:embed dashboard
var dashboardFiles embed.FS //nolint:gochecknoglobals // go:embed needs a package-level variable.

// dashboardTypes are the content types of the files the dashboard serves.
// They are set explicitly, not looked up in the system's mime.types (which
// differs between machines): with nosniff, a script served with a wrong
// type is refused by the browser.
func dashboardTypes() map[string]string {
	return map[string]string{
		".html": "text/html; charset=utf-8",
		".js":   "text/javascript; charset=utf-8",
		".css":  "text/css; charset=utf-8",
	}
}

// DashboardFile returns the handler that serves one file of the dashboard
// (routes.go lists them). The file is read once, here: a name that is not
// embedded is a build defect, so it stops the server at start instead of
// answering 500 later.
func DashboardFile(name string) echo.HandlerFunc {
	body, err := dashboardFiles.ReadFile(path.Join("dashboard", name))
	ctype, known := dashboardTypes()[path.Ext(name)]
	if err != nil || !known {
		panic(fmt.Sprintf("admin: dashboard file %q is not embedded or has no content type: %v", name, err))
	}
	return func(c *echo.Context) error {
		return c.Blob(http.StatusOK, ctype, body)
	}
}
