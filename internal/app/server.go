package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/bulwark-dev/bulwark/internal/config"
)

// Server limits. Each one closes a way for slow or idle clients to hold
// connections open until the server runs out of them (OWASP API4). The read
// and idle timeouts come from the configuration (HTTP_*_TIMEOUT).
const (
	writeTimeout   = 60 * time.Second // a client that never reads the response
	maxHeaderBytes = 32 << 10         // huge headers, cookies or tokens
)

// serve runs the HTTP server until ctx is cancelled, then shuts it down
// gracefully: the listener closes at once, and requests in flight get until
// the shutdown timeout to finish.
func serve(ctx context.Context, cfg config.Config, handler http.Handler, logger *slog.Logger, onListen func(addr string)) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout, // slowloris: headers sent a byte at a time
		ReadTimeout:       cfg.ReadTimeout,       // a trickled request body
		WriteTimeout:      writeTimeout,
		IdleTimeout:       cfg.IdleTimeout, // keep-alive connections left open
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		// Requests must outlive the signal that starts the shutdown, or
		// graceful shutdown would cancel the very requests it waits for.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	logger.Info("listening", "addr", ln.Addr().String(), "url", "http://"+ln.Addr().String())
	if onListen != nil {
		onListen(ln.Addr().String())
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("stopped")
	return nil
}
