package tests

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-dev/bulwark/internal/app"
	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/postgres/pgtest"
)

// Production refuses to serve through a database login that row-level
// security would not bind (docs/01-bola.md, the second wall): a superuser,
// the tables' owner. The refusal is one line naming DATABASE_URL and the
// role to use instead. The service's own role starts.
func TestProductionRefusesALoginAboveRowLevelSecurity(t *testing.T) {
	db := pgtest.New(t)
	cases := []struct {
		name, databaseURL, want string
	}{
		{"superuser", db.Admin, "is a superuser"},
		{"owner", db.Owner, "owns the tables"},
		{"service role", db.Service, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := productionEnv(t, c.databaseURL)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			logs := newLogBuffer()
			done := make(chan error, 1)
			go func() { done <- app.Run(ctx, []string{"serve"}, func(k string) string { return env[k] }, logs, logs) }()
			addr, err := logs.waitForListen(done, 20*time.Second)
			if c.want == "" {
				if err != nil {
					t.Fatalf("the service's role was refused: %v", err)
				}
				waitReady(t, "http://"+addr)
				cancel()
				if err := <-done; err != nil {
					t.Errorf("stopped with %v", err)
				}
				return
			}
			if err == nil {
				cancel()
				t.Fatalf("served on %s as the %s (then stopped: %v); want a refusal", addr, c.name, <-done)
			}
			msg := err.Error()
			for _, want := range []string{c.want, "DATABASE_URL", postgres.ServiceRole} {
				if !strings.Contains(msg, want) {
					t.Errorf("refusal %q does not say %q", msg, want)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("refusal spans several lines: %q", msg)
			}
			u, _ := url.Parse(c.databaseURL)
			if password, _ := u.User.Password(); strings.Contains(msg+logs.String(), password) {
				t.Error("the refusal or the log shows the database password")
			}
		})
	}
}

func productionEnv(t *testing.T, databaseURL string) map[string]string {
	t.Helper()
	key := func() string {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return map[string]string{
		"APP_ENV":      "production",
		"DATABASE_URL": databaseURL,
		"HTTP_ADDR":    "127.0.0.1:0",
		// A port of its own, so that no other server's metrics listener
		// (a demo, another test) can stop this one from starting.
		"METRICS_ADDR":     "127.0.0.1:0",
		"JWT_SIGNING_KEYS": "k1:" + key(),
		"URL_SIGNING_KEYS": "u1:" + key(),
		"FILE_STORAGE_DIR": filepath.Join(t.TempDir(), "files"),
		"SHUTDOWN_TIMEOUT": "5s",
	}
}
