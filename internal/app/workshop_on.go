//go:build workshop

package app

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/config"
	"github.com/bulwark-dev/bulwark/internal/workshop"
)

// checkWorkshopSettings refuses, before anything starts, a workshop binary
// that would listen beyond this machine: vulnerable code must not face a
// network by accident.
func checkWorkshopSettings(getenv func(string) string, cfg config.Config) error {
	if !loopbackAddr(cfg.HTTPAddr) && getenv("BULWARK_WORKSHOP_ALLOW_REMOTE") != "1" {
		return errors.New("the workshop build listens on loopback only: set HTTP_ADDR to 127.0.0.1:PORT, or BULWARK_WORKSHOP_ALLOW_REMOTE=1 on an isolated network")
	}
	return nil
}

// applyWorkshop swaps the secure parts for switchable ones and adds the
// facilitator's routes. This file and internal/workshop are compiled only
// with -tags workshop; nothing else imports them.
func applyWorkshop(ctx context.Context, getenv func(string) string, deps Deps, parts Parts, stdout io.Writer) (Parts, func(*echo.Echo), error) {
	board, err := workshop.NewBoard(getenv("BULWARK_VULNS"))
	if err != nil {
		return parts, nil, err
	}
	if err := workshop.PrepareFlows(ctx, deps.Pool); err != nil {
		return parts, nil, err
	}
	secureLimiter := parts.Limiter
	parts.CORS = workshop.CORS(board, parts.CORS)
	parts.Binder = workshop.Binder(board, parts.Binder)
	parts.ErrorHandler = workshop.ErrorHandler(board, parts.ErrorHandler, deps.Logger)
	parts.OrderFinder = workshop.OrderFinder(board, deps.Pool, parts.OrderFinder)
	parts.Idempotent = workshop.Idempotent(board, deps.Pool, parts.Idempotent)
	parts.Limiter = workshop.Limiter(board, parts.Limiter)
	parts.IPExtractor = workshop.IPExtractor(board, parts.IPExtractor)
	parts.Handlers = workshop.Handlers(board, deps.Pool, deps.Hasher, deps.Config.FileStorageDir)
	if _, err := fmt.Fprint(stdout, board.Banner()); err != nil {
		return parts, nil, err
	}
	reset := workshop.Reset(deps.Pool, deps.Hasher, deps.Storage, secureLimiter)
	return parts, func(e *echo.Echo) { workshop.Routes(e, board, reset) }, nil
}
