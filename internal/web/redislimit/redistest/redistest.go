// Package redistest starts a throwaway redis-server for a test, so code
// that talks to Redis is tested against the real thing: its Lua, its clock,
// its failures.
//
// The server keeps nothing on disk and is killed when the test ends. Stop and
// Restart simulate an outage and the recovery from it, on the same address,
// as a fleet sees when its Redis restarts.
package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bulwark-dev/bulwark/internal/proctest"
	"github.com/bulwark-dev/bulwark/internal/web/redislimit"
)

// binary is looked up on PATH, where Debian's redis-server package puts it.
const binary = "redis-server"

// readyTimeout bounds the wait for a starting server: an empty server
// answers within milliseconds, so this only stops a wedged one from hanging
// the test.
const readyTimeout = 10 * time.Second

// Server is a running (or stopped) redis-server owned by one test.
// Its methods must be called from the test's goroutine, as t.Fatal must.
type Server struct {
	t    testing.TB
	bin  string
	dir  string // --dir, and the server log
	port int

	kill   context.CancelFunc // kills the running server
	exited chan struct{}      // closed once it has exited; nil when never started
}

// Start runs a redis-server on a free port of 127.0.0.1 and returns once it
// answers. It is killed when t ends.
//
// Without the binary t is skipped, except when CI is set, where it fails:
// a CI run that silently skips its Redis tests proves nothing.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath(binary)
	if err != nil {
		const msg = "redis-server not found: apt-get install redis-server"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir()}
	// Registered after TempDir, so it runs first: the directory is removed
	// only once the server is gone.
	t.Cleanup(s.Stop)

	// Between freePort closing its listener and the server binding, anything
	// else on the machine may take the port; a fresh one is then tried.
	const attempts = 3
	for attempt := 1; ; attempt++ {
		s.port = proctest.FreePort(t)
		err := s.start()
		if err == nil {
			return s
		}
		if attempt == attempts {
			t.Fatalf("redistest: %v", err)
		}
	}
}

// URL is the address of database 0, for redislimit.NewClient or redis.ParseURL.
func (s *Server) URL() string {
	return "redis://" + s.addr() + "/0"
}

// Client is a client of the service's own kind (redislimit.NewClient:
// short timeouts, no retries) to database 0, closed when the test ends. A
// client made before Stop sees the outage and, after Restart, the recovery.
func (s *Server) Client() *redis.Client {
	s.t.Helper()
	client, err := redislimit.NewClient(s.URL())
	if err != nil {
		s.t.Fatalf("redistest: %v", err)
	}
	s.t.Cleanup(func() { _ = client.Close() })
	return client
}

// Stop kills the server, without a clean shutdown, as a crash or a network
// partition would look to its clients, and waits until it has exited.
// Stopping a stopped server does nothing.
func (s *Server) Stop() {
	if s.exited == nil {
		return
	}
	s.kill()
	<-s.exited
}

// Restart starts the server again on the same port, empty (nothing was
// persisted), and returns once it answers. A running server is stopped
// first.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		s.t.Fatalf("redistest: restart: %v", err)
	}
}

func (s *Server) addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
}

// start runs the server on s.port and waits until it answers.
func (s *Server) start() error {
	logPath := filepath.Join(s.dir, "redis.log")
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600) //nolint:gosec // G304: our own temporary directory.
	if err != nil {
		return fmt.Errorf("create server log: %w", err)
	}
	// The context is the server's lifetime: cancelling it (Stop) kills it.
	ctx, kill := context.WithCancel(context.Background())
	// Nothing here must outlive the test: no RDB snapshots, no append-only
	// file. Loopback only; protected mode stays on, so even a mistaken bind
	// would refuse clients from other hosts.
	//nolint:gosec // G204: the binary found on PATH and arguments of our own choosing, never request input.
	cmd := exec.CommandContext(ctx, s.bin,
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--protected-mode", "yes",
		"--dir", s.dir,
	)
	cmd.Dir = s.dir
	cmd.Stdout = log
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		kill()
		_ = log.Close()
		return fmt.Errorf("run redis-server: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		// The exit status says nothing the log does not; a killed server
		// exits with an error by design.
		_ = cmd.Wait()
		_ = log.Close()
		close(exited)
	}()
	s.kill, s.exited = kill, exited

	if err := s.waitReady(cmd.Process.Pid); err != nil {
		s.Stop()
		return fmt.Errorf("%w; %s ends with:\n%s", err, logPath, proctest.LogTail(logPath))
	}
	return nil
}

// waitReady polls with INFO until the server answers, exits or runs out of
// time. The answer must come from process pid: if another test's server
// took the port first, ours exits, but theirs would answer.
func (s *Server) waitReady(pid int) error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	client := redis.NewClient(&redis.Options{
		Addr:        s.addr(),
		DialTimeout: time.Second,
		// One dial per poll: the ticker is the retry loop.
		DialerRetries: 1,
		MaxRetries:    -1,
	})
	defer func() { _ = client.Close() }()

	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		info, err := client.Info(ctx, "server").Result()
		if err == nil {
			if strings.Contains(info, "\nprocess_id:"+strconv.Itoa(pid)+"\r\n") {
				return nil
			}
			return fmt.Errorf("port %d is served by another redis-server", s.port)
		}
		select {
		case <-s.exited:
			return fmt.Errorf("redis-server on port %d exited during start-up", s.port)
		case <-ctx.Done():
			return fmt.Errorf("redis-server on port %d did not answer: %w (last attempt: %w)", s.port, ctx.Err(), err)
		case <-tick.C:
		}
	}
}
