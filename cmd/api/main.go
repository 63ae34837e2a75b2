// Command api is the Bulwark service: `api serve` (the default), `api
// migrate` and `api seed`. Everything it does is in internal/app.Run, so the
// tests can run the very same code in-process.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/bulwark-dev/bulwark/internal/app"
)

func main() {
	// SIGINT and SIGTERM cancel ctx, which starts the graceful shutdown.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := app.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		_, _ = fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
}
