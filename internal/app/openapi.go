package app

import (
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/api"
)

// openAPI serves api/openapi.yaml, the document embedded at build time, so
// what a client or a scanner reads is the contract of exactly the version
// that answers (OWASP API9).
func openAPI(c *echo.Context) error {
	return c.Blob(http.StatusOK, api.MediaType, api.Document())
}
