package tests

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/bulwark-dev/bulwark/internal/app"
	"github.com/bulwark-dev/bulwark/internal/auth"
	"github.com/bulwark-dev/bulwark/internal/config"
	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/postgres/pgtest"
	"github.com/bulwark-dev/bulwark/internal/web"
	"github.com/bulwark-dev/bulwark/tools/attack"
)

// roundTrips counts what the pool sends: batches, and statements sent
// alone. Each is one round trip to the database.
type roundTrips struct{ batches, statements atomic.Int64 }

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.statements.Add(1)
	return ctx
}
func (*roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.batches.Add(1)
	return ctx
}
func (*roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (*roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

func (r *roundTrips) reset() { r.batches.Store(0); r.statements.Store(0) }

// Instant revocation costs a customer's request no round trip: the session
// is checked in the statement that sets the identity, which travels in one
// batch with the request's own statement. GET /orders/{id} is one round
// trip in all (the order and its lines in one statement). A staff route
// reads the session and the role before its handler runs, one round trip
// more, so that a customer is refused before any input is read.
func TestRevocationCostsCustomersNoRoundTrip(t *testing.T) {
	ctx := t.Context()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env := map[string]string{
		"APP_ENV":          "development",
		"DATABASE_URL":     pgtest.NewDatabase(t),
		"JWT_SIGNING_KEYS": "test:" + base64.RawURLEncoding.EncodeToString(key),
		"FILE_STORAGE_DIR": filepath.Join(t.TempDir(), "files"),
	}
	getenv := func(k string) string { return env[k] }
	if err := app.Run(ctx, []string{"seed"}, getenv, io.Discard, io.Discard); err != nil {
		t.Fatalf("seed: %v", err)
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		t.Fatal(err)
	}
	trips := &roundTrips{}
	pool, err := postgres.Open(ctx, env["DATABASE_URL"], postgres.Options{Tracer: trips})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	hasher, err := auth.NewHasher(auth.OWASPParams(), cfg.HashConcurrency)
	if err != nil {
		t.Fatal(err)
	}
	storage, closeStorage, err := app.OpenStorage(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeStorage)
	logger := slog.New(slog.DiscardHandler)
	e, err := app.New(app.Deps{Config: cfg, Logger: logger, Pool: pool, Hasher: hasher, Storage: storage},
		app.SecureParts(cfg, logger, web.NewMemoryLimiter()))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	demo := attack.DemoTarget(srv.URL)
	alice := signIn(t, srv.URL, demo.Alice.Email, demo.Alice.Password)
	admin := signIn(t, srv.URL, demo.Admin.Email, demo.Admin.Password)
	cases := []struct {
		name, path, token string
		want              int64
	}{
		{"customer: GET /orders/{id}", "/api/v1/orders/0de00000-0000-4000-8000-00000000a001", alice.Access, 1},
		{"customer: GET /users/me", "/api/v1/users/me", alice.Access, 1},
		{"staff: GET /admin/orders", "/api/v1/admin/orders?limit=1", admin.Access, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			trips.reset()
			if s := jsonCall(t, srv.URL, http.MethodGet, tc.path, tc.token, nil, nil); s != http.StatusOK {
				t.Fatalf("status %d", s)
			}
			if b, s := trips.batches.Load(), trips.statements.Load(); b+s != tc.want {
				t.Errorf("%d batches and %d statements sent alone; want %d round trips", b, s, tc.want)
			}
		})
	}
}
