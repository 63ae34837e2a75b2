package tests

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-dev/bulwark/internal/postgres/pgtest"
)

// Cancelling Run's context (what SIGINT/SIGTERM do in main) lets requests in
// flight finish, refuses new connections, and returns without error.
func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	db := pgtest.New(t)
	env := map[string]string{
		"DATABASE_URL":              db.Service,
		"MIGRATE_DATABASE_URL":      db.Owner,
		"HTTP_ADDR":                 "127.0.0.1:0",
		"JWT_SIGNING_KEYS":          "test:" + base64.RawURLEncoding.EncodeToString(key),
		"PASSWORD_HASH_CONCURRENCY": "1",
		"FILE_STORAGE_DIR":          t.TempDir(),
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, _, wait := bootServer(ctx, t, env)

	// Logins queue for the single hashing slot, so several of them are
	// in flight together for a while.
	const inFlight = 4
	statuses := make(chan int, inFlight)
	for range inFlight {
		go func() {
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, base+"/api/v1/auth/login",
				strings.NewReader(`{"email":"alice@example.com","password":"alice-demo-password"}`))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				statuses <- -1
				return
			}
			_ = resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	time.Sleep(20 * time.Millisecond) // let the requests reach the server
	cancel()

	for range inFlight {
		if s := <-statuses; s != http.StatusOK {
			t.Errorf("in-flight login finished with %d, want 200", s)
		}
	}
	if err := wait(); err != nil {
		t.Fatalf("Run returned %v", err)
	}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, base+"/healthz", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		_ = resp.Body.Close()
		t.Errorf("new request after shutdown answered %d; want connection refused", resp.StatusCode)
	}
}
