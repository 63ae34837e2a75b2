package tests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bulwark-dev/bulwark/internal/app"
	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/postgres/cluster"
)

// A PostgreSQL restart in the middle of a load of creates and reads: while
// the database is down every request is answered quickly with a 503 that
// says nothing about the cause, /readyz says not ready, the API recovers by
// itself once the database is back, and exactly the orders whose creation
// was answered 201 exist afterwards.
func TestFaultPostgresRestartUnderLoad(t *testing.T) {
	// A cluster of its own: the shared one of pgtest serves the other
	// tests of this binary, which must not see the outage.
	startCtx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	c, err := cluster.Start(startCtx, cluster.Options{
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if errors.Is(err, cluster.ErrNoBinaries) && os.Getenv("CI") == "" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(context.Background()); err != nil {
			t.Errorf("stop cluster: %v", err)
		}
	})

	// The two roles and a database of the owner's, as on any server the
	// service runs against; the fixtures and the read-back use the
	// superuser, which sees every row.
	logins, err := postgres.ProvisionDatabase(startCtx, c.URL("postgres"), "bulwark")
	if err != nil {
		t.Fatal(err)
	}
	adminURL := c.URL("bulwark")

	const requestTimeout = 3 * time.Second
	env := map[string]string{
		"DATABASE_URL":         logins.Service,
		"MIGRATE_DATABASE_URL": logins.Owner,
		"HTTP_ADDR":            "127.0.0.1:0",
		"REQUEST_TIMEOUT":      requestTimeout.String(),
		"SHUTDOWN_TIMEOUT":     "10s",
		"TRUSTED_PROXIES":      "127.0.0.1",
		"FILE_STORAGE_DIR":     t.TempDir(),
	}
	var key []byte
	env["JWT_SIGNING_KEYS"], key = newSigningKey()
	getenv := func(k string) string { return env[k] }
	if err := app.Run(t.Context(), []string{"migrate"}, getenv, io.Discard, io.Discard); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	base, _, _ := bootServer(t.Context(), t, env)
	const workers = 10
	tokens := makeUsers(t, adminURL, key, workers)

	// The load: each worker, as its own user from its own address, creates
	// an order with a unique note, reads it back and lists its orders, at a
	// pace well inside the per-user limit (about 10 requests a second).
	var (
		mu      sync.Mutex
		results []outcome
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 2 * requestTimeout}
	for w := range workers {
		wg.Go(func() {
			ctx := context.Background()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				case <-time.After(200 * time.Millisecond):
				}
				note := fmt.Sprintf("fault-%d-%d", w, n)
				created := call(ctx, client, http.MethodPost, base+"/api/v1/orders", tokens[w], spreadIP(w), orderJSON(note))
				created.note = note
				batch := []outcome{created}
				if created.status == http.StatusCreated {
					var o struct {
						ID string `json:"id"`
					}
					_ = json.Unmarshal([]byte(created.body), &o)
					batch[0].location = o.ID
					batch = append(batch, call(ctx, client, http.MethodGet, base+"/api/v1/orders/"+o.ID, tokens[w], spreadIP(w), ""))
				}
				batch = append(batch, call(ctx, client, http.MethodGet, base+"/api/v1/orders?limit=5", tokens[w], spreadIP(w), ""))
				mu.Lock()
				results = append(results, batch...)
				mu.Unlock()
			}
		})
	}
	snapshot := func() []outcome {
		mu.Lock()
		defer mu.Unlock()
		return append([]outcome(nil), results...)
	}

	time.Sleep(1500 * time.Millisecond) // a baseline under load
	if got := countBy(snapshot()); got[http.StatusCreated] == 0 {
		t.Fatalf("no order created before the restart: %v", got)
	}

	var readyDuringOutage []outcome
	downAt := time.Now()
	err = c.Restart(t.Context(), func() {
		// Down for two seconds: long enough for every worker to meet the
		// outage several times.
		for end := time.Now().Add(2 * time.Second); time.Now().Before(end); {
			readyDuringOutage = append(readyDuringOutage, call(context.Background(), client, http.MethodGet, base+"/readyz", "", "", ""))
			time.Sleep(200 * time.Millisecond)
		}
	})
	if err != nil {
		close(stop)
		wg.Wait()
		t.Fatalf("restart postgres: %v", err)
	}
	upAt := time.Now()
	t.Logf("postgres down for %v", upAt.Sub(downAt).Round(time.Millisecond))

	// The API must find its way back by itself: no restart, no signal.
	var recoveredAt time.Time
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if o := call(context.Background(), client, http.MethodGet, base+"/readyz", "", "", ""); o.status == http.StatusOK {
			recoveredAt = time.Now()
			break
		}
	}
	if recoveredAt.IsZero() {
		close(stop)
		wg.Wait()
		t.Fatal("/readyz did not answer 200 within 15s of PostgreSQL coming back")
	}
	t.Logf("ready again %v after postgres came back", recoveredAt.Sub(upAt).Round(time.Millisecond))
	time.Sleep(1500 * time.Millisecond) // load after the recovery
	close(stop)
	wg.Wait()
	all := snapshot()

	// During the outage: /readyz said not ready, with a proper 503.
	notReady := 0
	for _, o := range readyDuringOutage {
		switch {
		case o.status == http.StatusServiceUnavailable:
			notReady++
			if problem := checkUnavailable(o); problem != "" {
				t.Errorf("/readyz during the outage: %s: %v", problem, o)
			}
		case o.err != nil || o.status != http.StatusOK:
			t.Errorf("/readyz during the outage: %v", o)
		}
	}
	if notReady == 0 {
		t.Errorf("/readyz never answered 503 while PostgreSQL was down (%d probes)", len(readyDuringOutage))
	}

	// Every answer is a success or a quick, clean 503; nothing hangs,
	// nothing is a 500, no connection is dropped.
	unavailable := 0
	for _, o := range all {
		switch o.status {
		case http.StatusOK, http.StatusCreated:
		case http.StatusServiceUnavailable:
			unavailable++
			if problem := checkUnavailable(o); problem != "" {
				t.Errorf("503 during the outage: %s: %v", problem, o)
			}
		default:
			t.Errorf("request during the restart: %v", o)
		}
		if o.elapsed >= requestTimeout {
			t.Errorf("request took %v, not under the %v request deadline: %v", o.elapsed, requestTimeout, o)
		}
	}
	if unavailable == 0 {
		t.Errorf("no request saw the outage: the test did not test it (%v)", countBy(all))
	}
	// After the recovery (with a moment's grace for requests already on
	// their way), everything succeeds again.
	for _, o := range all {
		if o.started.After(recoveredAt.Add(300*time.Millisecond)) && o.status != http.StatusOK && o.status != http.StatusCreated {
			t.Errorf("request after the recovery failed: %v", o)
		}
	}
	t.Logf("outcomes: %v (503s: %d)", countBy(all), unavailable)

	// The database holds exactly the orders the clients were told exist.
	stored := orderNotes(t, adminURL)
	created := 0
	for _, o := range all {
		if o.note == "" {
			continue
		}
		_, exists := stored[o.note]
		switch {
		case o.status == http.StatusCreated && !exists:
			t.Errorf("order %q was answered 201 but is not in the database", o.note)
		case o.status == http.StatusCreated && stored[o.note] != o.location:
			t.Errorf("order %q was answered 201 with id %s but is stored as %s", o.note, o.location, stored[o.note])
		case o.status != http.StatusCreated && exists:
			t.Errorf("order %q was answered %d but exists: a client told to retry would create it twice", o.note, o.status)
		case o.status == http.StatusCreated:
			created++
		}
	}
	if created == 0 || created != len(stored) {
		t.Errorf("%d orders answered 201, %d fault orders stored", created, len(stored))
	}
}

// orderNotes maps the note of every order the load created to its id.
func orderNotes(t *testing.T, databaseURL string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	rows, err := conn.Query(ctx, `SELECT note, id::text FROM orders WHERE note LIKE 'fault-%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var note, id string
		if err := rows.Scan(&note, &id); err != nil {
			t.Fatal(err)
		}
		out[note] = id
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
