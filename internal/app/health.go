package app

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/web"
)

type healthHandler struct {
	pool *pgxpool.Pool
}

type healthResponse struct {
	Status string `json:"status"`
}

// live answers while the process can serve HTTP at all.
func (h *healthHandler) live(c *echo.Context) error {
	return c.JSON(http.StatusOK, healthResponse{Status: "ok"})
}

// ready answers 200 only while the database answers, so a load balancer
// stops sending traffic to an instance that would fail it.
func (h *healthHandler) ready(c *echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := h.pool.Ping(ctx); err != nil {
		return fmt.Errorf("readiness ping: %w: %w", err, web.Unavailable("The database is not reachable."))
	}
	return c.JSON(http.StatusOK, healthResponse{Status: "ready"})
}
