package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/bulwark-dev/bulwark/internal/app"
)

// serveProfiled is `bench profiled-api <file>`: the service itself
// (app.Run, what ./cmd/api runs) in this process, under the CPU profiler,
// which writes <file> when the server shuts down. The profiler lives here,
// in the benchmark's binary: the production server has no profiling
// endpoint and no switch to turn one on.
func serveProfiled(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: bench profiled-api <cpu profile file>")
	}
	f, err := os.Create(args[0]) //nolint:gosec // the path the parent bench passed on its own command line (-profile).
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return err
	}
	err = app.Run(ctx, []string{"serve"}, getenv, stdout, stderr)
	pprof.StopCPUProfile()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// profile is measurement 8: the secure server's CPU profile under the
// closed-loop load of 1 (-profile file). It starts the service in-process
// in a bench child (serveProfiled) with the secure server's settings and
// login, drives it as 1 does for rounds × round, and stops it, which writes
// the profile. Summarise it with `go tool pprof -top <file>`
// (docs/performance.md).
func (b *bench) profile(ctx context.Context) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	out, err := filepath.Abs(b.opt.profile)
	if err != nil {
		return err
	}
	srv, err := startServer(ctx, "api-profiled", self, []string{"profiled-api", out}, b.secureEnv,
		filepath.Join(b.dir, "api-profiled.log"), "/readyz")
	if err != nil {
		return err
	}
	tr := b.targetOn(srv)
	b.warm(ctx, tr)
	d := time.Duration(b.opt.rounds) * b.opt.round
	r, cpu, err := b.capacityFor(ctx, srv, tr, d)
	srv.stop()
	if err != nil {
		return err
	}
	b.logf("profiled secure server, closed loop c=%d for %s: %s; server CPU %.0f µs/req (the profiler's own cost included); profile in %s",
		b.opt.concurrency, d, r, cpu, out)
	return nil
}

// redisLimiter is measurement 7: the secure server with its limits kept in
// Redis (RATE_LIMIT_STORE=redis, a real redis-server on loopback) against
// the same server with the in-memory store, in alternating closed-loop
// rounds. Every request of the load passes two limits (per address, per
// user), each one Redis round trip there.
func (b *bench) redisLimiter(ctx context.Context) error {
	port, err := freePort(ctx)
	if err != nil {
		return err
	}
	redis := exec.CommandContext(ctx, "redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", //nolint:gosec // fixed program.
		"--save", "", "--appendonly", "no")
	redis.Stdout, redis.Stderr = io.Discard, io.Discard
	if err := redis.Start(); err != nil {
		return fmt.Errorf("start redis-server (apt-get install -y redis-server): %w", err)
	}
	defer func() { _ = redis.Process.Kill(); _ = redis.Wait() }()
	env := append([]string{"RATE_LIMIT_STORE=redis", "REDIS_URL=" + fmt.Sprintf("redis://127.0.0.1:%d/0", port)}, b.secureEnv...)
	var srv *server
	for range 50 { // redis-server takes a moment to listen
		srv, err = startServer(ctx, "api-redis", b.apiBin, []string{"serve"}, env, filepath.Join(b.dir, "api-redis.log"), "/readyz")
		if err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	defer srv.stop()
	memory, shared := b.getOrder(true), b.targetOn(srv)
	b.warm(ctx, memory, shared)
	var tput, cpu [2][]float64 // [0] memory, [1] redis
	for i := range b.opt.rounds {
		for j := range 2 {
			k := (i + j) % 2
			s, tr, name := b.secure, memory, "memory"
			if k == 1 {
				s, tr, name = srv, shared, "redis "
			}
			r, c, err := b.capacity(ctx, s, tr)
			if err != nil {
				return err
			}
			tput[k], cpu[k] = append(tput[k], r.Throughput), append(cpu[k], c)
			b.logf("round %d limiter %s closed loop c=%d: %s; server CPU %.0f µs/req", i+1, name, b.opt.concurrency, r, c)
		}
	}
	b.add(row{id: "7", what: "GET /orders/{id} throughput, Redis limiter ÷ in-memory limiter", value: median(tput[1]) / median(tput[0]), atLeast: true, target: 0.90,
		detail: fmt.Sprintf("%.0f vs %.0f req/s, closed loop, %d in flight, three limiter calls per request (per address, per user, the misses check); server CPU per request %.0f vs %.0f µs",
			median(tput[1]), median(tput[0]), b.opt.concurrency, median(cpu[1]), median(cpu[0]))})
	return nil
}
