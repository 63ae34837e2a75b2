package tests

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bulwark-dev/bulwark/internal/postgres/pgtest"
)

// A request that blocks in the database (here: a PATCH behind a row lock
// that another session holds) ends with a 503 within REQUEST_TIMEOUT, even
// when more such requests arrive than the pool has connections, and the
// database abandons the blocked statements itself (statement_timeout): no
// backend is left waiting on the lock for the client that gave up.
func TestStatementTimeoutBoundsBlockedRequests(t *testing.T) {
	const requestTimeout = 2 * time.Second
	db := pgtest.New(t)
	databaseURL := db.Admin // the side session and the fixtures see every row
	srv := startServer(t, map[string]string{
		"DATABASE_URL": withPoolSize(db.Service, 2), "MIGRATE_DATABASE_URL": db.Owner, "REQUEST_TIMEOUT": requestTimeout.String(),
	})
	// A token made here, not a login: an argon2id hash on a busy machine
	// could itself outlast the short deadline this test sets.
	alice := client{t: t, base: srv.URL, token: makeUsers(t, databaseURL, srv.Target.SigningKey, 1)[0]}
	status, order := alice.do(http.MethodPost, "/api/v1/orders", orderJSON("locked"))
	if status != http.StatusCreated {
		t.Fatalf("create order: %d %v", status, order)
	}
	id, _ := order["id"].(string)

	// A side session locks the order's row and keeps the lock.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	side, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = side.Close(context.Background()) }()
	tx, err := side.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(ctx, `SELECT id FROM orders WHERE id = $1 FOR UPDATE`, id); err != nil {
		t.Fatal(err)
	}

	hc := &http.Client{Timeout: 5 * requestTimeout}
	slack := time.Second // a loaded 2-core machine answers late, not never
	patch := func(n int) []outcome {
		outs := make([]outcome, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				outs[i] = call(context.Background(), hc, http.MethodPatch, srv.URL+"/api/v1/orders/"+id, alice.token, "", `{"note":"changed"}`)
			})
		}
		wg.Wait()
		for _, o := range outs {
			if o.status != http.StatusServiceUnavailable {
				t.Errorf("blocked PATCH: %v; want 503", o)
				continue
			}
			if problem := checkUnavailable(o); problem != "" {
				t.Errorf("blocked PATCH: %s: %v", problem, o)
			}
			if o.elapsed > requestTimeout+slack {
				t.Errorf("blocked PATCH answered after %v; the request deadline is %v", o.elapsed, requestTimeout)
			}
		}
		return outs
	}

	// As many blocked PATCHes as the pool has connections. PostgreSQL
	// cancels each statement itself (statement_timeout, just under the
	// deadline), so the connection that ran it stays open and goes back to
	// the pool; had the deadline come first, the driver would have had to
	// cancel and drop it.
	seen := make(chan []int32, 1)
	go func() {
		var pids []int32
		eventually(requestTimeout, func() bool {
			pids = lockWaiters(t, databaseURL)
			return len(pids) == 2
		})
		seen <- pids
	}()
	patch(2)
	blockedPIDs := <-seen
	if len(blockedPIDs) != 2 {
		t.Fatalf("saw %d backends waiting on the lock, want 2", len(blockedPIDs))
	}
	for _, pid := range blockedPIDs {
		var state string
		err := side.QueryRow(ctx, `SELECT state FROM pg_stat_activity WHERE pid = $1`, pid).Scan(&state)
		if err != nil || state != "idle" {
			t.Errorf("backend %d, which was blocked, is %q (%v) after its request ended; want it idle in the pool: statement_timeout did not end the statement", pid, state, err)
		}
	}

	// Twice as many as the pool has: half of them first wait for a
	// connection, then for the lock; the request deadline bounds both.
	began := time.Now()
	patch(4)

	// The lock is still held, and yet the service answers: the blocked
	// requests gave their connections back.
	if o := call(context.Background(), hc, http.MethodGet, srv.URL+"/api/v1/orders/"+id, alice.token, "", ""); o.status != http.StatusOK || o.elapsed > time.Second {
		t.Errorf("GET while the lock is held: %v; want a prompt 200", o)
	}

	// And no backend is left waiting on the lock for a client that gave up.
	// Only statement_timeout can end it: pgx v5's default deadline handling
	// closes the connection and sends no cancel request, and PostgreSQL
	// does not notice a vanished client while it waits on a lock.
	var waiting []string
	clean := eventually(2*requestTimeout, func() bool {
		waiting = waitingOnLock(t, side)
		return len(waiting) == 0
	})
	if !clean {
		t.Errorf("%v after the PATCHes began, backends still wait on the lock: %v", time.Since(began).Round(time.Millisecond), waiting)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if o := call(context.Background(), hc, http.MethodPatch, srv.URL+"/api/v1/orders/"+id, alice.token, "", `{"note":"after"}`); o.status != http.StatusOK {
		t.Errorf("PATCH after the lock is released: %v; want 200", o)
	}
}

// lockWaiters lists the backends of the database that wait for a lock. It
// runs beside the test's own goroutine, so it has a connection of its own.
func lockWaiters(t *testing.T, databaseURL string) []int32 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Error(err)
		return nil
	}
	defer func() { _ = conn.Close(context.Background()) }()
	rows, err := conn.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)
	if err != nil {
		t.Error(err)
		return nil
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		t.Error(err)
	}
	return pids
}

// waitingOnLock lists the queries of the database's other backends that wait
// for a lock.
func waitingOnLock(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	rows, err := conn.Query(t.Context(), `SELECT query FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'`)
	if err != nil {
		t.Fatal(err)
	}
	queries, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return queries
}

// withPoolSize caps the service's pool (pgxpool reads pool_max_conns from
// the URL), so a test can exhaust it with a few requests.
func withPoolSize(databaseURL string, n int) string {
	sep := "?"
	if strings.Contains(databaseURL, "?") {
		sep = "&"
	}
	return databaseURL + sep + "pool_max_conns=" + strconv.Itoa(n)
}
