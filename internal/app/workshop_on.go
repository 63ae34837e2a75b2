//go:build workshop

package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/config"
	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/workshop"
	"github.com/bulwark-dev/bulwark/tools/console"
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
// with -tags workshop; nothing else imports them. The returned func closes
// what it opened.
//
// The variants of the other issues, and the reset, run on a pool of the
// tables' owner in the maintenance scope (MIGRATE_DATABASE_URL): as in a
// service without row-level security, so that each shows its own wall
// alone. bola's variants run on the service's pool and choose their scope
// (internal/workshop/bola.go).
func applyWorkshop(ctx context.Context, getenv func(string) string, deps Deps, parts Parts, stdout io.Writer) (Parts, func(*echo.Echo), func(), error) {
	board, err := workshop.NewBoard(getenv("BULWARK_VULNS"))
	if err != nil {
		return parts, nil, nil, err
	}
	noRLS, err := postgres.Open(ctx, deps.Config.OwnerDatabaseURL().Reveal(),
		postgres.Options{StatementTimeout: deps.Config.StatementTimeout(), Maintenance: true})
	if err != nil {
		return parts, nil, nil, fmt.Errorf("workshop: the owner's pool (MIGRATE_DATABASE_URL): %w", err)
	}
	// The business flows' variants keep their own tables, the owner's.
	// Without the owner's URL (MIGRATE_DATABASE_URL) the pool is the
	// service's role, which may create nothing: the server still starts,
	// as it does for the reset, which needs the owner too, and says so;
	// only the business flows' variants and the reset then fail.
	if err := workshop.PrepareFlows(ctx, noRLS); err != nil {
		deps.Logger.Warn("workshop: the business flows' variants have no tables; set MIGRATE_DATABASE_URL to the tables' owner", "error", err)
	}
	secureLimiter := parts.Limiter
	parts.CORS = workshop.CORS(board, parts.CORS)
	parts.Binder = workshop.Binder(board, parts.Binder)
	parts.ErrorHandler = workshop.ErrorHandler(board, parts.ErrorHandler, deps.Logger)
	parts.OrderFinder = workshop.OrderFinder(board, deps.Pool, parts.OrderFinder)
	parts.Idempotent = workshop.Idempotent(board, noRLS, parts.Idempotent)
	parts.Limiter = workshop.Limiter(board, parts.Limiter)
	parts.IPExtractor = workshop.IPExtractor(board, parts.IPExtractor)
	parts.Handlers = workshopHandlers(board, noRLS, deps)
	if _, err := fmt.Fprint(stdout, board.Banner()); err != nil {
		noRLS.Close()
		return parts, nil, nil, err
	}
	reset := workshop.Reset(noRLS, deps.Hasher, deps.Storage, secureLimiter)
	// The console (/workshop/) runs the attack catalogue inside the
	// server, against itself, with the server's own keys: the one import
	// of a tool by the service, in this build only (tests/imports_test.go).
	opts := console.Options{Board: consoleBoard{board}, SigningKey: deps.Config.SigningKeys[0], NewStaff: workshop.NewStaff(noRLS, deps.Hasher)}
	if len(deps.Config.Payments.WebhookSecrets) > 0 {
		opts.WebhookKey = deps.Config.Payments.WebhookSecrets[0]
	}
	return parts, func(e *echo.Echo) { console.Routes(workshop.Routes(e, board, reset), opts) }, noRLS.Close, nil
}

// workshopHandlers are the route decorators of every issue whose handler
// has variants; pool is the owner's, beside row-level security, as the
// variants' own SQL needs.
func workshopHandlers(board *workshop.Board, pool *pgxpool.Pool, deps Deps) map[string]echo.MiddlewareFunc {
	h := workshop.Handlers(board, pool, deps.Hasher, deps.Config.FileStorageDir)
	maps.Copy(h, workshop.ThirdPartyHandlers(board, pool, deps.Storage, deps.Config))
	return h
}

// consoleBoard shows the switchboard to the console in plain strings, so
// that the console (a tool) need not import internal/workshop.
type consoleBoard struct{ b *workshop.Board }

func (c consoleBoard) Issues() []string        { return workshop.Issues() }
func (c consoleBoard) Get(issue string) string { return string(c.b.Get(issue)) }
func (c consoleBoard) Variants(issue string) []string {
	var out []string
	for _, v := range workshop.Variants(issue) {
		out = append(out, string(v))
	}
	return out
}
