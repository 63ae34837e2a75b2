package tests

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulwark-dev/bulwark/internal/app"
	"github.com/bulwark-dev/bulwark/internal/config"
)

// Production refuses to start on any development convenience, with one line
// saying what to set, before it opens a port or a database connection.
var settingName = regexp.MustCompile(`\b[A-Z][A-Z_]{3,}\b`) //nolint:gochecknoglobals // test-only, compiled once.

func TestProductionRefusesUnsafeConfig(t *testing.T) {
	good := "k1:" + strings.Repeat("Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWo", 1)
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		wantVar string
	}{
		{"no signing key", map[string]string{"DATABASE_URL": "postgres://u:p@127.0.0.1:1/db"}, nil, "JWT_SIGNING_KEYS"},
		{"development key", map[string]string{"DATABASE_URL": "postgres://u:p@127.0.0.1:1/db", "JWT_SIGNING_KEYS": config.DevSigningKey}, nil, "JWT_SIGNING_KEYS"},
		{"weak key", map[string]string{"DATABASE_URL": "postgres://u:p@127.0.0.1:1/db", "JWT_SIGNING_KEYS": "k1:c2VjcmV0"}, nil, "JWT_SIGNING_KEYS"},
		{"no database", map[string]string{"JWT_SIGNING_KEYS": good}, nil, "DATABASE_URL"},
		{"seeding enabled", map[string]string{"DATABASE_URL": "postgres://u:p@127.0.0.1:1/db", "JWT_SIGNING_KEYS": good, "SEED_DEMO_DATA": "true"}, nil, "SEED_DEMO_DATA"},
		{"seed command", map[string]string{"DATABASE_URL": "postgres://u:p@127.0.0.1:1/db", "JWT_SIGNING_KEYS": good, "URL_SIGNING_KEYS": good}, []string{"seed"}, "APP_ENV=production"},
		{"no URL signing key", map[string]string{"DATABASE_URL": "postgres://u:p@127.0.0.1:1/db", "JWT_SIGNING_KEYS": good}, nil, "URL_SIGNING_KEYS"},
		{"trust every proxy", map[string]string{"DATABASE_URL": "postgres://u:p@127.0.0.1:1/db", "JWT_SIGNING_KEYS": good, "TRUSTED_PROXIES": "0.0.0.0/0"}, nil, "TRUSTED_PROXIES"},
		{"wildcard CORS", map[string]string{"DATABASE_URL": "postgres://u:p@127.0.0.1:1/db", "JWT_SIGNING_KEYS": good, "CORS_ALLOWED_ORIGINS": "*"}, nil, "CORS_ALLOWED_ORIGINS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"APP_ENV": "production"}
			for k, v := range tt.env {
				env[k] = v
			}
			var stdout, stderr bytes.Buffer
			err := app.Run(context.Background(), tt.args, func(k string) string { return env[k] }, &stdout, &stderr)
			if err == nil {
				t.Fatal("started; want a refusal")
			}
			msg := err.Error()
			// One problem a line, every line naming the variable to set:
			// a start lists everything there is to fix
			// (internal/config/startup.go).
			for line := range strings.SplitSeq(msg, "\n") {
				if !settingName.MatchString(line) {
					t.Errorf("refusal line %q names no setting", line)
				}
			}
			if !strings.Contains(msg, tt.wantVar) {
				t.Errorf("refusal %q does not name %s", msg, tt.wantVar)
			}
			for _, secret := range []string{"Zm9vYmFy", "c2VjcmV0", ":p@"} {
				if strings.Contains(msg+stdout.String()+stderr.String(), secret) {
					t.Errorf("refusal or output leaks a secret (%q): %q", secret, msg)
				}
			}
		})
	}
}

// `api serve` with no DATABASE_URL runs on an empty database thrown away on
// exit. A newcomer who is not told signs in with the demo passwords, gets
// 401 and concludes the server is broken: the start says so, and how to get
// the demo data or keep their own.
func TestServeOnAThrowawayDatabaseSaysHowToGetDemoData(t *testing.T) {
	env := map[string]string{"HTTP_ADDR": "127.0.0.1:0", "METRICS_ADDR": "127.0.0.1:0", "DEV_DATA_DIR": t.TempDir(), "LOG_LEVEL": "warn"}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	out := &watchedBuffer{want: "EMPTY throwaway database", seen: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, []string{"serve"}, func(k string) string { return env[k] }, out, io.Discard)
	}()
	select {
	case <-out.seen:
	case err := <-done:
		t.Fatalf("serve stopped before saying anything: %v\n%s", err, out.String())
	case <-ctx.Done():
		t.Fatalf("no hint within the time limit; output:\n%s", out.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve after a stop: %v", err)
	}
	for _, want := range []string{"make demo", "SEED_DEMO_DATA=true", "DATABASE_URL"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the start does not mention %s:\n%s", want, out.String())
		}
	}
}

// watchedBuffer collects a server's output and closes seen once want appears.
type watchedBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func (w *watchedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return n, err
}

func (w *watchedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
