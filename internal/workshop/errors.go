//go:build workshop

package workshop

import (
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/web"
)

// ErrorHandler switches between the secure error handler and two variants.
//
// Vulnerable: every error's own text goes to the client: driver messages,
// SQL, Go type names, file paths.
//
// Naive: 5xx bodies are generic, but 4xx bodies still carry the binder's
// and validator's raw text, which names Go types and internals.
// Secure code: internal/web/errors.go.
func ErrorHandler(b *Board, secure echo.HTTPErrorHandler, logger *slog.Logger) echo.HTTPErrorHandler {
	return func(c *echo.Context, err error) {
		variant := b.Get("errors")
		if variant == Secure {
			secure(c, err)
			return
		}
		status := web.StatusOf(err)
		detail := err.Error()
		if variant == Naive && status >= 500 {
			detail = "Internal Server Error"
		}
		logger.Info("workshop error handler", "variant", variant, "status", status)
		c.Response().Header().Set("Content-Type", "application/problem+json")
		_ = c.JSON(status, map[string]any{"type": "about:blank", "title": http.StatusText(status), "status": status, "detail": detail})
	}
}
