//go:build workshop

package tests

import (
	"slices"
	"testing"

	"github.com/bulwark-dev/bulwark/tools/attack"
)

// The browser test of the dashboard can fail: against the workshop's
// variants of "validation" (internal/workshop/dashboard.go), the same
// hostile data, the same browser and the same sign-in see payloads run.
// TestDashboardStoredXSS (dashboard_test.go) runs the secure side in both
// builds.

// Vulnerable: customer text parsed as HTML, no CSP. Script tags and event
// handlers run, and the alert opens a dialog. (svg onload is not required:
// Chromium fires it for inserted markup only in some cases, so it is
// logged but not asserted.)
func TestWorkshopDashboardVulnerable(t *testing.T) {
	ran, dialogs := dashboardUnder(t, "validation")
	for _, want := range []string{"script", "img-onerror", "details-ontoggle", "customer-name-api", "note-api", "internal-note-form"} {
		if !slices.Contains(ran, want) {
			t.Errorf("payload %s did not run against the vulnerable dashboard; ran: %v", want, ran)
		}
	}
	if len(dialogs) == 0 {
		t.Error("the alert payload opened no dialog against the vulnerable dashboard")
	}
}

// Naive: <script> stripped, markup still parsed, 'unsafe-inline' in the
// CSP. The basic payload is stopped; the bypasses run.
func TestWorkshopDashboardNaive(t *testing.T) {
	ran, _ := dashboardUnder(t, "validation:naive")
	if slices.Contains(ran, "script") {
		t.Errorf("the naive filter let plain <script> through: %v", ran)
	}
	for _, want := range []string{"img-onerror", "details-ontoggle", "mixed-case-script", "nested-script"} {
		if !slices.Contains(ran, want) {
			t.Errorf("bypass %s did not run against the naive dashboard; ran: %v", want, ran)
		}
	}
}

// The catalogue's CSP check follows the switch: no policy (vulnerable) and
// 'unsafe-inline' (naive) are EXPLOITED, the secure policy BLOCKED.
func TestWorkshopDashboardCSP(t *testing.T) {
	paired(t, "validation", map[string]attack.Verdict{"validation/dashboard-csp": attack.Exploited})
	paired(t, "validation:naive", map[string]attack.Verdict{"validation/top-level-bounds": attack.Blocked, "validation/dashboard-csp": attack.Exploited})
	paired(t, "", map[string]attack.Verdict{"validation/dashboard-csp": attack.Blocked})
}

// dashboardUnder plants the hostile data in a workshop server with the
// given switches, visits the dashboard, and returns the labels of the
// payloads that ran and the dialogs that opened.
func dashboardUnder(t *testing.T, vulns string) ([]string, []string) {
	t.Helper()
	browser := newBrowser(t)
	srv := startServer(t, map[string]string{"BULWARK_VULNS": vulns})
	edit, _ := plantHostileData(t, srv)
	visit := visitDashboard(t, browser, srv, edit)
	return visit.executed, visit.dialogs
}
