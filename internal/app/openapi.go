package app

import (
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/api"
	"github.com/bulwark-dev/bulwark/internal/config"
	"github.com/bulwark-dev/bulwark/internal/web"
)

// openAPI serves api/openapi.yaml, the document embedded at build time, so
// what a client or a scanner reads is the contract of exactly the version
// that answers (OWASP API9).
func openAPI(c *echo.Context) error {
	return c.Blob(http.StatusOK, api.MediaType, api.Document())
}

// Routes returns every route New registers for cfg, as echo lists them
// (paths with :id). The service is assembled but never started: no database,
// storage or limiter is opened and no handler runs. tests/openapi_test.go
// compares this list with api/openapi.yaml in both directions, so a route
// added here without documentation, or documentation left behind by a
// removed route, fails the build.
func Routes(cfg config.Config) (echo.Routes, error) {
	logger := slog.New(slog.DiscardHandler)
	e, err := New(Deps{Config: cfg, Logger: logger}, SecureParts(cfg, logger, web.NewMemoryLimiter()))
	if err != nil {
		return nil, err
	}
	return e.Router().Routes(), nil
}
