package tests

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/bulwark-dev/bulwark/tools/attack"
)

// minBatteryCases is the least the battery must try against the default
// build: fewer means a family stopped producing cases without a word.
const minBatteryCases = 300

// TestBatteryBlocksEveryCase runs the OpenAPI battery (tools/attack,
// battery*.go) against the real server, with the route table as the
// served routes, and requires every case BLOCKED: none exploited, none
// skipped (the test knows the signing key), none that could not run.
// `go test -v -run Battery ./tests/` prints the cases per operation.
func TestBatteryBlocksEveryCase(t *testing.T) {
	srv := startServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	res, err := attack.Battery(attack.BatteryOptions{Served: servedRoutes(t)}).Run(ctx, srv.Target)
	logTallies(t, res.Cases)
	t.Logf("%s in %s: %s", res.Verdict, time.Since(start).Round(time.Second), res.Evidence)
	if err != nil {
		t.Fatalf("the battery could not run: %v", err)
	}
	total := 0
	for _, row := range res.Cases {
		total += row.Tried
		if row.Blocked != row.Tried {
			t.Errorf("%s (%s %s, %s): %d of %d cases not blocked:\n  %s",
				row.Operation, row.Method, row.Path, row.Policy, row.Tried-row.Blocked, row.Tried, strings.Join(row.Findings, "\n  "))
		}
	}
	if res.Verdict != attack.Blocked {
		t.Errorf("verdict %s, want BLOCKED", res.Verdict)
	}
	if total < minBatteryCases {
		t.Errorf("the battery tried %d cases, want at least %d", total, minBatteryCases)
	}
}

// servedRoutes is the route table of internal/app/routes.go, as the
// battery's served routes.
func servedRoutes(t *testing.T) []attack.Endpoint {
	t.Helper()
	var out []attack.Endpoint
	for _, r := range tableRoutes(t) {
		out = append(out, attack.Endpoint{Method: r.Method, Path: openAPIPath(r.Path)})
	}
	return out
}

// logTallies prints the cases per operation, as the runner does.
func logTallies(t *testing.T, rows []attack.Tally) {
	t.Helper()
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "OPERATION\tMETHOD\tPATH\tPOLICY\tTRIED\tBLOCKED\tEXPLOITED\tSKIPPED\tUNPROVEN")
	var sum attack.Tally
	for _, r := range rows {
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n", r.Operation, r.Method, r.Path, r.Policy, r.Tried, r.Blocked, r.Exploited, r.Skipped, r.Unproven)
		sum.Tried += r.Tried
		sum.Blocked += r.Blocked
		sum.Exploited += r.Exploited
		sum.Skipped += r.Skipped
		sum.Unproven += r.Unproven
	}
	_, _ = fmt.Fprintf(tw, "total\t\t\t\t%d\t%d\t%d\t%d\t%d\n", sum.Tried, sum.Blocked, sum.Exploited, sum.Skipped, sum.Unproven)
	_ = tw.Flush()
	t.Logf("battery cases per operation:\n%s", b.String())
	for _, r := range rows {
		for _, f := range r.Findings {
			t.Logf("%s: %s", r.Operation, f)
		}
	}
}
