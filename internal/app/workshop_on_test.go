//go:build workshop

package app

import (
	"log/slog"
	"testing"

	"github.com/bulwark-dev/bulwark/internal/web"
	"github.com/bulwark-dev/bulwark/internal/workshop"
)

// Every handler the workshop switches is keyed by a route of the table:
// a route renamed or removed in routes.go must take its variants along,
// or this fails (and so does the workshop server's start).
func TestWorkshopHandlersAreKeyedByRoutes(t *testing.T) {
	cfg := devConfig(t)
	logger := slog.New(slog.DiscardHandler)
	deps := Deps{Config: cfg, Logger: logger}
	board, err := workshop.NewBoard("")
	if err != nil {
		t.Fatal(err)
	}
	parts := SecureParts(cfg, logger, web.NewMemoryLimiter())
	// No database: building the decorators opens nothing.
	parts.Handlers = workshopHandlers(board, nil, deps)
	if len(parts.Handlers) == 0 {
		t.Fatal("the workshop build switches no handler: this test would prove nothing")
	}
	rows, err := Routes(cfg)
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]bool{}
	for _, r := range rows {
		routes[r.Key()] = true
	}
	for key := range parts.Handlers {
		if !routes[key] {
			t.Errorf("internal/workshop/wrap.go switches %q, which is no route of internal/app/routes.go", key)
		}
	}
	if _, err := New(deps, parts); err != nil {
		t.Errorf("New refuses the workshop's parts: %v", err)
	}
}
