package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Server timeouts. Each one closes a way for slow or idle clients to hold
// connections open until the server runs out of them (OWASP API4).
const (
	readHeaderTimeout = 5 * time.Second  // slowloris: headers sent a byte at a time
	readTimeout       = 30 * time.Second // a trickled request body
	writeTimeout      = 60 * time.Second // a client that never reads the response
	idleTimeout       = 90 * time.Second // keep-alive connections left open
	maxHeaderBytes    = 32 << 10         // huge headers, cookies or tokens
)

// serve runs the HTTP server until ctx is cancelled, then shuts it down
// gracefully: the listener closes at once, and requests in flight get until
// the shutdown timeout to finish.
func serve(ctx context.Context, addr string, handler http.Handler, shutdownTimeout time.Duration, logger *slog.Logger, onListen func(addr string)) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
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
	logger.Info("shutting down", "timeout", shutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
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
