//go:build workshop

package console

import (
	"testing"

	"github.com/bulwark-dev/bulwark/internal/workshop"
	"github.com/bulwark-dev/bulwark/tools/attack"
)

// Every issue of the switchboard has its card's text; an issue added
// without one would get a bare card.
func TestEveryIssueHasAGuide(t *testing.T) {
	for _, issue := range workshop.Issues() {
		g, ok := guides()[issue]
		if !ok {
			t.Errorf("tools/console/guide.go has no entry for %q: add its title, story, docs page and code", issue)
			continue
		}
		if g.Title == "" || g.Story == "" || g.Docs == "" || len(g.Secure) == 0 || len(g.Variants) == 0 {
			t.Errorf("%s: incomplete guide %+v", issue, g)
		}
	}
}

func TestSplitEvidence(t *testing.T) {
	tests := []struct {
		in, summary, request, response string
	}{
		{"bob was refused alice's order: GET /api/v1/orders/x → 404 {\"title\":\"Not Found\"}", "bob was refused alice's order", "GET /api/v1/orders/x", "404 {\"title\":\"Not Found\"}"},
		{"POST /api/v1/auth/login {\"email\":\"a\"} → 401 {}", "", "POST /api/v1/auth/login {\"email\":\"a\"}", "401 {}"},
		{"answered in 2ms, no sleep ran", "answered in 2ms, no sleep ran", "", ""},
		{"an arrow → but no request", "an arrow → but no request", "", ""},
	}
	for _, tt := range tests {
		s, req, resp := splitEvidence(tt.in)
		if s != tt.summary || req != tt.request || resp != tt.response {
			t.Errorf("splitEvidence(%q) = %q, %q, %q; want %q, %q, %q", tt.in, s, req, resp, tt.summary, tt.request, tt.response)
		}
	}
}

func TestHeadline(t *testing.T) {
	o := func(v string) attack.Outcome { return attack.Outcome{Verdict: v} }
	tests := []struct {
		name     string
		variant  string
		outcomes []attack.Outcome
		selected int
		want     string
	}{
		{"vulnerable", "vulnerable", []attack.Outcome{o("EXPLOITED"), o("BLOCKED")}, 2, "EXPLOITED"},
		{"naive lets one through", "naive", []attack.Outcome{o("EXPLOITED"), o("BLOCKED")}, 2, "BYPASSED"},
		{"secure", "secure", []attack.Outcome{o("BLOCKED"), o("SKIPPED")}, 2, "BLOCKED"},
		{"an error is not blocked", "secure", []attack.Outcome{o("BLOCKED"), o("ERROR")}, 2, "ERROR"},
		{"an unfinished run is not blocked", "secure", []attack.Outcome{o("BLOCKED")}, 2, "ERROR"},
	}
	for _, tt := range tests {
		if got, line := headline(tt.variant, tt.outcomes, tt.selected); got != tt.want {
			t.Errorf("%s: %s (%s), want %s", tt.name, got, line, tt.want)
		}
	}
}
