//go:build workshop

package tests

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-dev/bulwark/tools/attack"
)

// TestBatteryCatchesEachWorkshopSwitch runs the OpenAPI battery against
// the workshop build with one issue switched to its vulnerable variant at
// a time, and requires the case family that covers the issue to report it
// on the operation it breaks. The rate-limit switch is on in each run too:
// the battery tests no limit, and without them it runs in seconds instead
// of waiting out the sign-in routes' limit.
func TestBatteryCatchesEachWorkshopSwitch(t *testing.T) {
	for _, tt := range []struct {
		vulns     string
		operation string
		finding   string
	}{
		{"bola", "getOrder", "EXPLOITED owner/other-customer:"},
		{"mass-assignment", "updateMe", "EXPLOITED body/unknown/"},
		{"exposure", "getMe", "EXPLOITED success/valid-request:"},
		{"sqli", "listOrders", "EXPLOITED param/sort="},
		{"errors", "getMe", "EXPLOITED auth/no-token:"},
		{"files", "downloadSignedFile", "EXPLOITED success/valid-request:"},
		{"validation", "adminDashboard", "EXPLOITED success/valid-request:"},
		{"webhook", "paymentWebhook", "EXPLOITED auth/no-signature:"},
		{"webhook:naive", "paymentWebhook", "EXPLOITED auth/stale-timestamp:"},
	} {
		t.Run(tt.vulns, func(t *testing.T) {
			srv, opts := startBatteryServer(t, map[string]string{"BULWARK_VULNS": tt.vulns + ",ratelimit"})
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			res, _ := attack.Battery(opts).Run(ctx, srv.Target)
			if res.Verdict != attack.Exploited {
				logTallies(t, res.Cases)
				t.Fatalf("with %s vulnerable the battery says %s: %s", tt.vulns, res.Verdict, res.Evidence)
			}
			for _, row := range res.Cases {
				if row.Operation != tt.operation {
					continue
				}
				for _, f := range row.Findings {
					if strings.HasPrefix(f, tt.finding) {
						t.Logf("%s: %s", row.Operation, f)
						return
					}
				}
				t.Errorf("with %s vulnerable, %s has no finding %q: %s", tt.vulns, row.Operation, tt.finding, strings.Join(row.Findings, "\n"))
				return
			}
			t.Errorf("no cases for %s", tt.operation)
		})
	}
}
