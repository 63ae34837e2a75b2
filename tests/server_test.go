package tests

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulwark-dev/bulwark/internal/app"
	"github.com/bulwark-dev/bulwark/internal/postgres/pgtest"
	"github.com/bulwark-dev/bulwark/tools/attack"
)

// server is one running instance of the service under test.
type server struct {
	URL string
	// DatabaseURL is the superuser's URL of the server's database, for
	// fixtures and read-backs that must see every row; the server itself
	// connects as the service's role, under row-level security.
	DatabaseURL string
	StorageDir  string // FILE_STORAGE_DIR: where the server keeps uploaded objects
	Target      *attack.Target
	logs        *logBuffer
}

// Logs returns everything the server has logged so far.
func (s *server) Logs() string { return s.logs.String() }

// startServer boots the service on a free loopback port with a fresh
// database, seeded with the demo data, and stops it when the test ends.
// It connects as the service's role and seeds as the owner, as a
// deployment does. env overrides the default test settings; a test that
// brings its own database gives DATABASE_URL and MIGRATE_DATABASE_URL.
func startServer(t *testing.T, env map[string]string) *server {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	db := pgtest.New(t)
	settings := map[string]string{
		"APP_ENV":              "development",
		"DATABASE_URL":         db.Service,
		"MIGRATE_DATABASE_URL": db.Owner,
		"HTTP_ADDR":            "127.0.0.1:0",
		"JWT_SIGNING_KEYS":     "test:" + base64.RawURLEncoding.EncodeToString(key),
		"CORS_ALLOWED_ORIGINS": attack.LegitimateOrigin,
		"SHUTDOWN_TIMEOUT":     "10s",
		// Two levels down, so the canaries planted around it stay inside the test's own temp dir.
		"FILE_STORAGE_DIR": filepath.Join(t.TempDir(), "srv", "files"),
	}
	for k, v := range env {
		settings[k] = v
	}
	base, logs, _ := bootServer(context.Background(), t, settings)
	target := attack.DemoTarget(base)
	target.SigningKeyID, target.SigningKey = "test", key
	target.Canary = plantCanary(t, settings["FILE_STORAGE_DIR"])
	checkResponses(t, target)
	return &server{URL: base, DatabaseURL: db.Admin, StorageDir: settings["FILE_STORAGE_DIR"], Target: target, logs: logs}
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, base+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s/readyz never answered 200", base)
}

// bootServer seeds the database named in env, runs the service until ctx
// is cancelled or the test ends, and returns its base URL once /readyz
// answers, the buffer that receives its logs, and a function that waits for
// Run to return and gives its error.
func bootServer(ctx context.Context, t *testing.T, env map[string]string) (string, *logBuffer, func() error) {
	t.Helper()
	if _, ok := env["METRICS_ADDR"]; !ok {
		// Servers of one test run side by side: each gets a free port for
		// its metrics, as for its API.
		env = maps.Clone(env)
		env["METRICS_ADDR"] = "127.0.0.1:0"
	}
	getenv := func(k string) string { return env[k] }
	ctx, cancel := context.WithCancel(ctx)
	if err := app.Run(ctx, []string{"seed"}, getenv, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		cancel()
		t.Fatalf("seed: %v", err)
	}
	logs := newLogBuffer()
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, nil, getenv, logs, logs) }()
	var (
		once   sync.Once
		runErr error
	)
	wait := func() error {
		once.Do(func() {
			select {
			case runErr = <-done:
			case <-time.After(20 * time.Second):
				runErr = errors.New("server did not stop within 20s")
			}
		})
		return runErr
	}
	t.Cleanup(func() {
		cancel()
		if err := wait(); err != nil {
			t.Errorf("server stopped with error: %v", err)
		}
	})
	addr, err := logs.waitForListen(done, 20*time.Second)
	if err != nil {
		t.Fatalf("server did not start: %v\nlogs:\n%s", err, logs)
	}
	base := "http://" + addr
	waitReady(t, base)
	return base, logs, wait
}

// logBuffer collects the server's output and spots the "listening" line.
type logBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	listen chan string
	once   sync.Once
	// metrics is the address of the metrics listener, once it logged it.
	metrics string
}

// MetricsAddr is where the server serves GET /metrics ("" if it does not).
func (l *logBuffer) MetricsAddr() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.metrics
}

func newLogBuffer() *logBuffer { return &logBuffer{listen: make(chan string, 1)} }

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for line := range strings.SplitSeq(string(p), "\n") {
		var entry struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "listening" {
			l.once.Do(func() { l.listen <- entry.Addr })
		}
		if entry.Msg == "metrics listening" {
			l.metrics = entry.Addr
		}
	}
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) waitForListen(done <-chan error, timeout time.Duration) (string, error) {
	select {
	case addr := <-l.listen:
		return addr, nil
	case err := <-done:
		if err == nil {
			err = errors.New("run returned before listening")
		}
		return "", err
	case <-time.After(timeout):
		return "", errors.New("timed out")
	}
}
