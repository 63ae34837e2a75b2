//go:build workshop

package tests

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-dev/bulwark/internal/app"
	"github.com/bulwark-dev/bulwark/tools/attack"
)

// paired runs attacks against a workshop server with the given switches and
// requires the given verdicts. It is how CI proves that an attack can fail:
// the same catalogue entry that says BLOCKED against the secure code says
// EXPLOITED against the variant.
func paired(t *testing.T, vulns string, want map[string]attack.Verdict) {
	t.Helper()
	for id, verdict := range want {
		t.Run(vulns+"/"+id, func(t *testing.T) {
			srv := startServer(t, map[string]string{"BULWARK_VULNS": vulns})
			a := findAttack(t, id)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			res, err := a.Run(ctx, srv.Target)
			if err != nil {
				t.Fatalf("attack could not run: %v", err)
			}
			t.Logf("%s %s: %s", res.Verdict, id, res.Evidence)
			if res.Verdict != verdict {
				t.Errorf("with BULWARK_VULNS=%s, %s is %s, want %s: %s", vulns, id, res.Verdict, verdict, res.Evidence)
			}
		})
	}
}

func findAttack(t *testing.T, id string) attack.Attack {
	t.Helper()
	for _, a := range attack.Catalogue() {
		if a.ID == id {
			return a
		}
	}
	t.Fatalf("no attack %s", id)
	return attack.Attack{}
}

func TestWorkshopCORS(t *testing.T) {
	paired(t, "cors", map[string]attack.Verdict{"cors/evil-origin": attack.Exploited, "cors/null-origin": attack.Exploited})
	paired(t, "cors:naive", map[string]attack.Verdict{"cors/evil-origin": attack.Blocked, "cors/suffix-lookalike": attack.Exploited})
	paired(t, "", map[string]attack.Verdict{"cors/evil-origin": attack.Blocked, "cors/suffix-lookalike": attack.Blocked})
}

// Errors: the raw error text leaks PostgreSQL's constraint message in a
// 500; hiding 5xx text stops that but the 4xx answers still carry the
// decoder's and validator's words.
func TestWorkshopErrors(t *testing.T) {
	paired(t, "errors", map[string]attack.Verdict{"errors/server-error-detail": attack.Exploited})
	paired(t, "errors:naive", map[string]attack.Verdict{"errors/server-error-detail": attack.Blocked, "errors/hostile-inputs": attack.Exploited})
	paired(t, "", map[string]attack.Verdict{"errors/server-error-detail": attack.Blocked, "errors/hostile-inputs": attack.Blocked})
}

// BOLA: the vulnerable lookup (both walls down: no owner condition, and a
// scope that row-level security lets see every order) hands bob alice's
// order; the naive one refuses it, but with a 403 that a missing id does
// not get. rls-only removes the application's check and keeps the
// database's: bob's lookup by id alone runs as bob, row-level security
// returns no row, and bob gets the 404 of a missing id, read or write.
func TestWorkshopBOLA(t *testing.T) {
	paired(t, "bola", map[string]attack.Verdict{"bola/read-order": attack.Exploited})
	paired(t, "bola:naive", map[string]attack.Verdict{"bola/read-order": attack.Blocked, "bola/enumerate-ids": attack.Exploited})
	paired(t, "bola:rls-only", map[string]attack.Verdict{
		"bola/read-order": attack.Blocked, "bola/enumerate-ids": attack.Blocked, "bola/patch-order": attack.Blocked,
	})
	paired(t, "", map[string]attack.Verdict{"bola/read-order": attack.Blocked, "bola/enumerate-ids": attack.Blocked})
}

// rls-only is bola's alone: the board refuses it for any other issue, at
// start and live.
func TestWorkshopRLSOnlyIsBolasVariant(t *testing.T) {
	env := map[string]string{"BULWARK_VULNS": "sqli:rls-only", "HTTP_ADDR": "127.0.0.1:0"}
	err := app.Run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `"rls-only" is not a variant of sqli`) {
		t.Errorf("BULWARK_VULNS=sqli:rls-only: %v, want a refusal", err)
	}
	srv := startServer(t, nil)
	for body, want := range map[string]int{`{"bola":"rls-only"}`: http.StatusOK, `{"cors":"rls-only"}`: http.StatusBadRequest} {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPut, srv.URL+"/workshop/switches", strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("PUT %s: %d, want %d", body, resp.StatusCode, want)
		}
	}
}

// Rate limiting: without a limiter one account is brute-forced; per-IP
// limits keyed on X-Forwarded-For stop one address but reset with a header.
func TestWorkshopRateLimit(t *testing.T) {
	paired(t, "ratelimit", map[string]attack.Verdict{"ratelimit/brute-force-one-account": attack.Exploited})
	paired(t, "ratelimit:naive", map[string]attack.Verdict{
		"ratelimit/brute-force-one-account": attack.Blocked, "ratelimit/reset-by-forwarded-for": attack.Exploited,
	})
	paired(t, "", map[string]attack.Verdict{
		"ratelimit/brute-force-one-account": attack.Blocked, "ratelimit/reset-by-forwarded-for": attack.Blocked,
	})
}

// Mass assignment: a loose decoder binds "role"; a denylist of "role" is
// passed by "Role".
func TestWorkshopMassAssignment(t *testing.T) {
	paired(t, "mass-assignment", map[string]attack.Verdict{"mass-assignment/role-on-patch-me": attack.Exploited})
	paired(t, "mass-assignment:naive", map[string]attack.Verdict{
		"mass-assignment/role-on-patch-me": attack.Blocked, "mass-assignment/role-other-casing": attack.Exploited,
	})
	paired(t, "", map[string]attack.Verdict{
		"mass-assignment/role-on-patch-me": attack.Blocked, "mass-assignment/role-other-casing": attack.Blocked,
	})
}

// Exposure: the raw row leaks the hash; hiding the hash alone leaks the
// other internal columns.
func TestWorkshopExposure(t *testing.T) {
	paired(t, "exposure", map[string]attack.Verdict{"exposure/password-hash": attack.Exploited})
	paired(t, "exposure:naive", map[string]attack.Verdict{"exposure/password-hash": attack.Blocked, "exposure/user-fields": attack.Exploited})
	paired(t, "", map[string]attack.Verdict{"exposure/password-hash": attack.Blocked, "exposure/user-fields": attack.Blocked})
}

// SQL injection: sort pasted into ORDER BY runs stacked statements;
// stripping ';' and '--' stops those but not an expression in the sort.
func TestWorkshopSQLInjection(t *testing.T) {
	paired(t, "sqli", map[string]attack.Verdict{"sqli/stacked-sleep": attack.Exploited, "sqli/boolean-blind": attack.Exploited})
	paired(t, "sqli:naive", map[string]attack.Verdict{"sqli/stacked-sleep": attack.Blocked, "sqli/boolean-blind": attack.Exploited})
	paired(t, "", map[string]attack.Verdict{"sqli/stacked-sleep": attack.Blocked, "sqli/boolean-blind": attack.Blocked})
}

// Business flows: check-then-act lets a parallel burst sell, redeem,
// refund and order more than the rule allows; the same check inside a READ
// COMMITTED transaction is passed by the same burst.
func TestWorkshopBusinessFlows(t *testing.T) {
	all := func(v attack.Verdict) map[string]attack.Verdict {
		out := map[string]attack.Verdict{}
		for _, a := range attack.ByIssue("business-flows") {
			out[a.ID] = v
		}
		return out
	}
	paired(t, "business-flows", all(attack.Exploited))
	paired(t, "business-flows:naive", all(attack.Exploited))
	paired(t, "", all(attack.Blocked))
}

// Switches flip live, from loopback, and the verdict follows without a
// restart.
func TestWorkshopSwitchesFlipLive(t *testing.T) {
	srv := startServer(t, nil)
	a := findAttack(t, "cors/evil-origin")
	ctx := context.Background()
	verdict := func() attack.Verdict {
		t.Helper()
		res, err := a.Run(ctx, srv.Target)
		if err != nil {
			t.Fatal(err)
		}
		return res.Verdict
	}
	if v := verdict(); v != attack.Blocked {
		t.Fatalf("secure start: %s", v)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, srv.URL+"/workshop/switches", strings.NewReader(`{"cors":"vulnerable"}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	var state map[string]string
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &state) != nil || state["cors"] != "vulnerable" {
		t.Fatalf("switch: %d %s", resp.StatusCode, body)
	}
	if v := verdict(); v != attack.Exploited {
		t.Errorf("after switching cors to vulnerable: %s", v)
	}
}

func TestWorkshopFiles(t *testing.T) {
	paired(t, "files", map[string]attack.Verdict{"files/unsigned-traversal": attack.Exploited})
	paired(t, "files:naive", map[string]attack.Verdict{"files/unsigned-traversal": attack.Blocked, "files/nested-traversal": attack.Exploited})
	paired(t, "", map[string]attack.Verdict{"files/unsigned-traversal": attack.Blocked, "files/nested-traversal": attack.Blocked})
}

func TestWorkshopValidation(t *testing.T) {
	paired(t, "validation", map[string]attack.Verdict{"validation/top-level-bounds": attack.Exploited})
	paired(t, "validation:naive", map[string]attack.Verdict{
		"validation/top-level-bounds": attack.Blocked, "validation/markup-in-address": attack.Exploited, "validation/nested-bounds": attack.Exploited,
	})
	paired(t, "", map[string]attack.Verdict{"validation/top-level-bounds": attack.Blocked, "validation/markup-in-address": attack.Blocked})
}

// POST /workshop/reset restores the demo data and gives the rate limits
// their allowance back, so the next demonstration starts clean.
func TestWorkshopResetRestoresDataAndLimits(t *testing.T) {
	srv := startServer(t, nil)
	ctx := context.Background()
	post := func(path, body string) int {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	limited := false
	for i := range 30 {
		if post("/api/v1/auth/login", `{"email":"alice@example.com","password":"wrong-guess-`+strings.Repeat("x", i)+`"}`) == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("control: the brute force was never limited")
	}
	if s := post("/api/v1/auth/register", `{"email":"extra@example.com","password":"correct-horse-battery","name":"Extra"}`); s != http.StatusCreated {
		t.Fatalf("control: register before the reset: %d", s)
	}
	if s := post("/workshop/reset", ""); s != http.StatusOK {
		t.Fatalf("reset: %d", s)
	}
	if s := post("/api/v1/auth/login", `{"email":"alice@example.com","password":"alice-demo-password"}`); s != http.StatusOK {
		t.Errorf("alice's login after reset: %d, want 200 (limits cleared)", s)
	}
	if s := post("/api/v1/auth/login", `{"email":"extra@example.com","password":"correct-horse-battery"}`); s != http.StatusUnauthorized {
		t.Errorf("an account registered before the reset can still log in (%d): data not restored", s)
	}
}

// The workshop binary refuses any address but loopback, at once: before a
// database is started or a socket opened, so vulnerable code never faces a
// network by accident (docs/workshop.md, safety rails).
func TestWorkshopBuildRefusesNonLoopbackAddress(t *testing.T) {
	env := map[string]string{"HTTP_ADDR": "0.0.0.0:0", "BULWARK_VULNS": "all", "SEED_DEMO_DATA": "true"}
	// Bounded, so a removed check fails the test instead of serving.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	err := app.Run(ctx, []string{"serve"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "loopback only") {
		t.Fatalf("the workshop build on 0.0.0.0 returned %v; want the loopback-only refusal", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("refused after %s: something (a database?) started before the check", elapsed.Round(time.Millisecond))
	}
}
