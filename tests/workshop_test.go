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

	"github.com/bulwark-dev/bulwark/internal/attack"
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

func TestWorkshopErrors(t *testing.T) {
	paired(t, "errors", map[string]attack.Verdict{"errors/hostile-inputs": attack.Exploited})
	paired(t, "errors:naive", map[string]attack.Verdict{"errors/hostile-inputs": attack.Exploited})
	paired(t, "", map[string]attack.Verdict{"errors/hostile-inputs": attack.Blocked})
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
