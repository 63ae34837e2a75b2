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
	databaseURL := pgtest.NewDatabase(t)
	srv := startServer(t, map[string]string{"DATABASE_URL": withPoolSize(databaseURL, 2), "REQUEST_TIMEOUT": requestTimeout.String()})
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

	// Twice as many blocked PATCHes as the pool has connections: half of
	// them first wait for a connection, then for the lock.
	const blocked = 4
	began := time.Now()
	outs := make([]outcome, blocked)
	var wg sync.WaitGroup
	hc := &http.Client{Timeout: 5 * requestTimeout}
	for i := range blocked {
		wg.Go(func() {
			outs[i] = call(context.Background(), hc, http.MethodPatch, srv.URL+"/api/v1/orders/"+id, alice.token, "", `{"note":"changed"}`)
		})
	}
	wg.Wait()
	slack := time.Second // a loaded 2-core machine answers late, not never
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

	// The lock is still held, and yet the service answers: the blocked
	// requests gave their connections back.
	if o := call(context.Background(), hc, http.MethodGet, srv.URL+"/api/v1/orders/"+id, alice.token, "", ""); o.status != http.StatusOK || o.elapsed > time.Second {
		t.Errorf("GET while the lock is held: %v; want a prompt 200", o)
	}

	// And PostgreSQL itself gave up on every blocked statement: without
	// statement_timeout the backends of the requests that timed out would
	// wait on the lock for as long as the side session holds it.
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
