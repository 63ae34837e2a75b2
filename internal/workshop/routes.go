//go:build workshop

package workshop

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/netip"

	"github.com/labstack/echo/v5"
)

// Routes adds the facilitator's controls: GET/PUT /workshop/switches and
// POST /workshop/reset. They answer only to loopback clients: whoever can
// flip a switch can make the server vulnerable.
func Routes(e *echo.Echo, b *Board, reset func(context.Context) error) {
	g := e.Group("/workshop", loopbackOnly)
	g.GET("/switches", func(c *echo.Context) error { return c.JSON(http.StatusOK, b.Snapshot()) })
	g.PUT("/switches", func(c *echo.Context) error {
		var req map[string]Variant
		if err := json.NewDecoder(http.MaxBytesReader(c.Response(), c.Request().Body, 4096)).Decode(&req); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "send a JSON object such as {\"bola\":\"vulnerable\"}")
		}
		for issue, v := range req {
			if err := b.Set(issue, v); err != nil {
				return echo.NewHTTPError(http.StatusBadRequest, err.Error())
			}
		}
		return c.JSON(http.StatusOK, b.Snapshot())
	})
	g.POST("/reset", func(c *echo.Context) error {
		if err := reset(c.Request().Context()); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "demo data restored"})
	})
}

func loopbackOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		// The TCP peer, not c.RealIP(): a forwarded header must not unlock
		// the switchboard.
		host, _, _ := net.SplitHostPort(c.Request().RemoteAddr)
		if ip, err := netip.ParseAddr(host); err != nil || !ip.IsLoopback() {
			return echo.NewHTTPError(http.StatusForbidden, "the workshop controls answer only on loopback")
		}
		return next(c)
	}
}
