package web

import (
	"log/slog"
	"time"

	"github.com/labstack/echo/v5"
)

// RequestLogger writes one structured line per request. It logs an
// allowlist of fields rather than the request: headers (Authorization,
// cookies), bodies (passwords) and query strings (signed URLs carry
// signatures) are never written.
func RequestLogger(logger *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			start := time.Now()
			err := next(c)
			status := 0
			if resp, _ := echo.UnwrapResponse(c.Response()); resp != nil {
				status = resp.Status
			}
			if err != nil {
				// The error handler runs after this middleware returns; the
				// status it will send is the one problemFor picks.
				status = StatusOf(err)
			}
			req := c.Request()
			logger.LogAttrs(req.Context(), slog.LevelInfo, "request",
				slog.String("request_id", RequestID(c)),
				slog.String("method", req.Method),
				slog.String("route", c.Path()),
				slog.String("path", req.URL.Path),
				slog.Int("status", status),
				slog.Duration("duration", time.Since(start)),
				slog.String("client_ip", c.RealIP()),
				slog.String("user_id", UserIDForLog(c)),
			)
			return err
		}
	}
}

const userIDLogKey = "web.log_user_id"

// SetUserIDForLog records the authenticated user for the request log line.
func SetUserIDForLog(c *echo.Context, id string) { c.Set(userIDLogKey, id) }

// UserIDForLog returns the id set by SetUserIDForLog, or "".
func UserIDForLog(c *echo.Context) string {
	id, _ := c.Get(userIDLogKey).(string)
	return id
}
