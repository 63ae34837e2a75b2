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

// Routes adds the facilitator's controls: GET/PUT /workshop/switches,
// POST /workshop/reset and GET /workshop/api/manifest, and returns their
// group, guarded by facilitatorOnly, for the workshop console
// (tools/console) to add its own. Whoever can flip a switch can make the
// server vulnerable.
func Routes(e *echo.Echo, b *Board, reset func(context.Context) error) *echo.Group {
	g := e.Group("/workshop", facilitatorOnly)
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
	// What is vulnerable right now, for scoring scanners (attack score).
	g.GET("/api/manifest", func(c *echo.Context) error { return c.JSON(http.StatusOK, b.Manifest()) })
	return g
}

// facilitatorOnly lets through only requests from this machine, made to
// this machine:
//   - the TCP peer is a loopback address, not c.RealIP(): a forwarded
//     header must not unlock the switchboard;
//   - the Host is a loopback address or localhost: a web page the
//     facilitator's browser visits could otherwise re-point its own name at
//     127.0.0.1 (DNS rebinding) and drive these routes as same-origin;
//   - an Origin, when the browser sends one, is this very host: another
//     site's page may POST a simple form here (CSRF), and its Origin says so.
func facilitatorOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		r := c.Request()
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		if ip, err := netip.ParseAddr(host); err != nil || !ip.IsLoopback() {
			return echo.NewHTTPError(http.StatusForbidden, "the workshop controls answer only on loopback")
		}
		if !loopbackHost(r.Host) {
			return echo.NewHTTPError(http.StatusForbidden, "the workshop controls answer only to a loopback address or localhost in Host")
		}
		if origin := r.Header.Get("Origin"); origin != "" && origin != "http://"+r.Host {
			return echo.NewHTTPError(http.StatusForbidden, "the workshop controls answer only to their own page")
		}
		return next(c)
	}
}

// loopbackHost reports whether a Host header names this machine.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
