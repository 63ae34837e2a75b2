package tests

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/bulwark-dev/bulwark/tools/attack"
)

// issuesUnderTest are the catalogue issues the files of this package run.
// TestEveryAttackIsRun fails when an issue is added to the catalogue but no
// test runs it.
func issuesUnderTest() []string {
	return []string{"auth", "bfla", "bola", "business-flows", "cors", "errors", "exposure", "files", "mass-assignment", "misconfig", "ratelimit", "sqli", "ssrf", "validation", "webhook"}
}

// runIssue runs every attack of one issue, each against its own freshly
// booted server (rate-limit state and data start clean), and requires the
// verdict BLOCKED. The evidence is logged either way, so `go test -v` shows
// what each defence did.
func runIssue(t *testing.T, issue string, env map[string]string) {
	t.Helper()
	attacks := attack.ByIssue(issue)
	if len(attacks) == 0 {
		t.Fatalf("no attacks for issue %q", issue)
	}
	runAttacks(t, attacks, env)
}

// runAttacks runs the given attacks, each against a fresh server.
func runAttacks(t *testing.T, attacks []attack.Attack, env map[string]string) {
	t.Helper()
	for _, a := range attacks {
		t.Run(a.ID, func(t *testing.T) {
			srv := startServer(t, env)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			res, err := a.Run(ctx, srv.Target)
			if err != nil {
				t.Fatalf("attack could not run: %v", err)
			}
			t.Logf("%s %s: %s", res.Verdict, a.ID, res.Evidence)
			if res.Verdict != attack.Blocked {
				t.Errorf("%s (%s, %s): %s\nevidence: %s", res.Verdict, a.OWASP, a.CWE, a.Story, res.Evidence)
			}
		})
	}
}

func TestEveryAttackIsRun(t *testing.T) {
	if got, want := attack.Issues(), issuesUnderTest(); !slices.Equal(got, want) {
		t.Errorf("catalogue issues %v, tests run %v: add a test file for the new issue", got, want)
	}
}
