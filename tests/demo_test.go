package tests

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bulwark-dev/bulwark/tools/attack"
)

// make demo attacks one server with the whole catalogue, then hands it to
// a person who signs in as alice. The run must be quick because no attack
// waits on a limit another spent (each speaks from its own loopback
// address, as customers of its own: attack.ForAttack), every verdict must
// still be BLOCKED, and afterwards the demo accounts must be exactly as
// seeded, with sign-in working at once.
func TestWholeCatalogueOnOneServer(t *testing.T) {
	srv := startServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	before := demoState(t, srv)

	sources := &attack.Sources{}
	if ok, why := attack.CanIsolate(ctx, srv.URL, sources); !ok {
		t.Fatalf("cannot isolate the attacks on this machine: %s", why)
	}
	srv.Target.Pace = true // as the runner does: a 429 it did not expect would be waited out, and show in the time
	start := time.Now()
	outcomes := attack.RunAll(ctx, srv.Target, sources, attack.Catalogue(), 2*time.Minute, nil, nil)
	elapsed := time.Since(start)
	for _, o := range outcomes {
		t.Logf("%-9s %-45s %6s  %s", o.Verdict, o.Attack.ID, o.Duration.Round(time.Millisecond), o.Evidence)
		if o.Verdict != string(attack.Blocked) && o.Verdict != string(attack.Skipped) {
			t.Errorf("%s: %s: %s", o.Attack.ID, o.Verdict, o.Evidence)
		}
		// The slowest honest attacks take a few seconds (timing
		// comparisons, many uploads), and sqli/admin-sort about eight:
		// its 163 probes are more than the one demo admin's per-user
		// burst of 120, so it waits for its own refill. Waiting on a
		// limit another attack spent takes up to a limit's whole window
		// (20 s per user, 60 s for sign-in).
		if o.Duration > 15*time.Second {
			t.Errorf("%s took %s: it waited on something", o.Attack.ID, o.Duration)
		}
	}
	t.Logf("%d attacks in %s", len(outcomes), elapsed.Round(time.Millisecond))
	if len(outcomes) != len(attack.Catalogue()) {
		t.Fatalf("%d of %d attacks ran", len(outcomes), len(attack.Catalogue()))
	}

	after := demoState(t, srv)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("the run changed the demo accounts' data (-before +after):\n%s", diff)
	}
}

// demoState is everything the demo accounts can see of their own data,
// and what the admin sees of theirs, read through the API after signing in
// afresh as each from 127.0.0.1 (a 429 there fails the test).
func demoState(t *testing.T, srv *server) map[string]any {
	t.Helper()
	ctx := t.Context()
	state := map[string]any{}
	fresh := attack.DemoTarget(srv.URL) // its own session cache: every login is real
	get := func(token, path string) any {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		var body any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
		}
		return body
	}
	for _, a := range []attack.Account{srv.Target.Alice, srv.Target.Bob} {
		tok, err := fresh.Login(ctx, a)
		if err != nil {
			t.Fatalf("sign in as %s: %v", a.Email, err)
		}
		state[a.Email+" me"] = get(tok, "/api/v1/users/me")
		orders := get(tok, "/api/v1/orders?limit=100")
		state[a.Email+" orders"] = orders
		items, _ := orders.(map[string]any)["items"].([]any)
		for _, o := range items {
			id, _ := o.(map[string]any)["id"].(string)
			state[a.Email+" files of "+id] = get(tok, "/api/v1/orders/"+id+"/files")
		}
	}
	tok, err := fresh.Login(ctx, srv.Target.Admin)
	if err != nil {
		t.Fatalf("sign in as the admin: %v", err)
	}
	state["admin me"] = get(tok, "/api/v1/users/me")
	// The staff list shows every customer's orders, the attacks' own
	// customers' too; the demo customers' are the ones that must not change.
	demo := []string{srv.Target.Alice.Email, srv.Target.Bob.Email}
	staff, _ := get(tok, "/api/v1/admin/orders?limit=100").(map[string]any)["items"].([]any)
	var theirs []any
	for _, o := range staff {
		customer, _ := o.(map[string]any)["customer"].(map[string]any)
		if email, _ := customer["email"].(string); slices.Contains(demo, email) {
			theirs = append(theirs, o)
		}
	}
	state["admin's view of the demo orders"] = theirs
	return state
}
