package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"

	"github.com/bulwark-dev/bulwark/internal/app"
	"github.com/bulwark-dev/bulwark/internal/auth"
	"github.com/bulwark-dev/bulwark/internal/db"
	"github.com/bulwark-dev/bulwark/internal/orders"
	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/web"
)

// callerHeader names the caller in requests to the baseline. The baseline
// exists only to be measured against: it must never be deployed, which is
// why it lives in the bench binary and not in cmd/api.
const callerHeader = "X-Bench-Caller"

// authUserIDKey is the echo context key internal/auth.Authenticate sets.
// The baseline sets it from callerHeader instead of a verified token; if
// auth ever renames its key, auth.UserID panics, every baseline request
// fails and the bench stops at its first check.
const authUserIDKey = "auth.user_id"

// serveBaseline is the orders handler, service and store of the real
// server with no security around them: no token check, no rate limits, no
// security headers, no CORS, no body limit, no in-flight bound, no
// deadline. What every service runs whether or not it is secure stays, so
// that it is not counted as the price of security: the request id, the
// request log line and panic recovery, as in the real server. The
// ownership lookup stays too, because it is how the handler gets its
// order: the SQL is the same as the secure server's.
func serveBaseline(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	pool, err := postgres.Open(ctx, getenv("DATABASE_URL"), postgres.Options{})
	if err != nil {
		return err
	}
	defer pool.Close()
	svc := orders.NewService(orders.NewStore(pool), orders.NewCursors([]byte("baseline cursors are not compared")))
	h := orders.NewHandler(svc)

	e := echo.New()
	e.Use(
		web.RequestIDMiddleware(),
		web.RequestLogger(app.NewLogger(stdout, "info")),
		middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true}),
	)
	caller := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			id, err := uuid.Parse(c.Request().Header.Get(callerHeader))
			if err != nil {
				return echo.NewHTTPError(http.StatusBadRequest, "no caller")
			}
			c.Set(authUserIDKey, id)
			return next(c)
		}
	}
	e.GET("/readyz", func(c *echo.Context) error { return c.NoContent(http.StatusOK) })
	e.GET("/api/v1/orders/:id", h.Get, caller, orders.ResolveOwned(svc))
	e.GET("/api/v1/orders", h.List, caller)

	// Ceilings for measurement 2 (docs/performance.md): what an HTTP server
	// in Go reaches on this machine with no handler work at all, and with
	// nothing but the endpoint's statement (no mapping, no JSON). If
	// even these stay under the target's share of pgbench, no handler can
	// reach it here: the gap is HTTP and the load generator sharing the
	// cores, not the defences.
	e.GET("/ceiling/empty", func(c *echo.Context) error { return c.NoContent(http.StatusNoContent) })
	q := db.New(pool)
	e.GET("/ceiling/sql/:id", func(c *echo.Context) error {
		id, err := uuid.Parse(c.Param("id"))
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "bad id")
		}
		owner := auth.UserID(c)
		ctx := c.Request().Context()
		if _, err := q.GetOrderWithItemsForOwner(ctx, db.GetOrderWithItemsForOwnerParams{ID: id, OwnerID: owner}); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}, caller)

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", getenv("HTTP_ADDR"))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
