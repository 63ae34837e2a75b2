package redistest

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func newClient(t *testing.T, s *Server) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(s.URL())
	if err != nil {
		t.Fatalf("parse %s: %v", s.URL(), err)
	}
	opts.MaxRetries = -1
	opts.DialerRetries = 1
	opts.DialTimeout = 250 * time.Millisecond
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	return client
}

func TestStopAndRestartOnTheSameAddress(t *testing.T) {
	s := Start(t)
	if !strings.HasPrefix(s.URL(), "redis://127.0.0.1:") || !strings.HasSuffix(s.URL(), "/0") {
		t.Fatalf("URL() = %q, want redis://127.0.0.1:PORT/0", s.URL())
	}
	client := newClient(t, s)
	ctx := t.Context()
	if err := client.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET on a started server: %v", err)
	}

	s.Stop()
	if err := client.Ping(ctx).Err(); err == nil {
		t.Fatal("PING answered after Stop")
	}
	s.Stop() // stopping twice is harmless

	s.Restart()
	// The same client, so the same address: a fleet's clients reconnect to
	// the Redis they were configured with.
	if err := client.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING after Restart: %v", err)
	}
	// Nothing is persisted: a restarted server is empty.
	if err := client.Get(ctx, "k").Err(); err != redis.Nil { //nolint:errorlint // redis.Nil is returned as is.
		t.Errorf("GET k after Restart = %v, want redis.Nil (no persistence)", err)
	}
}

func TestStopsWhenTheTestEnds(t *testing.T) {
	var url string
	t.Run("owner", func(t *testing.T) {
		url = Start(t).URL()
	})
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	opts.MaxRetries = -1
	opts.DialerRetries = 1
	client := redis.NewClient(opts)
	defer func() { _ = client.Close() }()
	if err := client.Ping(context.Background()).Err(); err == nil {
		t.Errorf("server at %s still answers after its test ended", url)
	}
}

// outcome records how Start ended a test that is not really a test.
type outcome struct {
	testing.TB // nil: any method not overridden below panics, failing loudly
	skipped    string
	fatal      string
}

func (o *outcome) Helper()           {}
func (o *outcome) Skip(args ...any)  { o.skipped = fmt.Sprint(args...); runtime.Goexit() }
func (o *outcome) Fatal(args ...any) { o.fatal = fmt.Sprint(args...); runtime.Goexit() }
func (o *outcome) Fatalf(f string, args ...any) {
	o.fatal = fmt.Sprintf(f, args...)
	runtime.Goexit()
}

// startWithout runs Start where redis-server is not installed.
func startWithout(t *testing.T, ci string) *outcome {
	t.Helper()
	t.Setenv("PATH", t.TempDir())
	t.Setenv("CI", ci)
	o := &outcome{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(o)
	}()
	<-done
	return o
}

func TestMissingBinary(t *testing.T) {
	const hint = "redis-server not found: apt-get install redis-server"
	t.Run("skips on a laptop", func(t *testing.T) {
		o := startWithout(t, "")
		if o.skipped != hint || o.fatal != "" {
			t.Errorf("skipped %q, fatal %q; want skipped %q", o.skipped, o.fatal, hint)
		}
	})
	t.Run("fails in CI", func(t *testing.T) {
		o := startWithout(t, "true")
		if o.fatal != hint || o.skipped != "" {
			t.Errorf("fatal %q, skipped %q; want fatal %q", o.fatal, o.skipped, hint)
		}
	})
}

// TestTakenPortIsNotMistakenForOurs: when another server holds the port,
// ours cannot bind, but the other one answers; start must not take it for
// ours, or two tests would share (and flush) one database.
func TestTakenPortIsNotMistakenForOurs(t *testing.T) {
	first := Start(t)
	second := &Server{t: t, bin: first.bin, dir: t.TempDir(), port: first.port}
	t.Cleanup(second.Stop)
	if err := second.start(); err == nil {
		t.Fatalf("start on the port of a running server succeeded")
	}
	if err := newClient(t, first).Ping(t.Context()).Err(); err != nil {
		t.Errorf("the first server stopped answering: %v", err)
	}
}
