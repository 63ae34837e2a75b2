package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bulwark-dev/bulwark/internal/config"
	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/web"
	"github.com/bulwark-dev/bulwark/internal/web/metrics"
	"github.com/bulwark-dev/bulwark/internal/web/secevent"
)

// observability is what an operator watches the service with: the
// security events (log and counters) and the Prometheus metrics
// (docs/operations.md).
func observability(logger *slog.Logger, pool *pgxpool.Pool, limiter web.Limiter) (*metrics.Metrics, *secevent.Emitter, error) {
	m := metrics.New()
	if err := m.Register(postgres.PoolCollector(pool)); err != nil {
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	if shared, ok := limiter.(*web.ResilientLimiter); ok {
		if err := m.WatchLimiter(shared); err != nil {
			return nil, nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return m, secevent.NewEmitter(logger, m.SecurityEvent), nil
}

// serveMetrics serves GET /metrics on cfg.MetricsAddr until ctx ends. It
// is a listener of its own, never the API's (config refuses the same
// address): the API's clients must not read which defences are firing.
// A listener that cannot open stops the start-up, as the API's does.
func serveMetrics(ctx context.Context, cfg config.Config, m *metrics.Metrics, logger *slog.Logger) (func(), error) {
	if !cfg.MetricsEnabled() {
		return func() {}, nil
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.MetricsAddr)
	if err != nil {
		return nil, fmt.Errorf("listen for metrics on %s: %w", cfg.MetricsAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	// Not "listening": that line names the API's address, and tools wait for it.
	logger.Info("metrics listening", "addr", ln.Addr().String(), "url", "http://"+ln.Addr().String()+"/metrics")
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics server", "error", err)
		}
	}()
	return func() {
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
		<-done
	}, nil
}
