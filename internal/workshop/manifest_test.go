//go:build workshop

package workshop

import "testing"

// Every issue says where it is exploitable, or the manifest would call a
// scanner's true finding there a false positive.
func TestEveryIssueHasASurface(t *testing.T) {
	for _, issue := range Issues() {
		if len(Surface(issue)) == 0 {
			t.Errorf("internal/workshop/manifest.go declares no surface for %q", issue)
		}
		for _, e := range Surface(issue) {
			if e.Method == "" || e.Path == "" || e.CWE == "" {
				t.Errorf("%s: incomplete exposure %+v", issue, e)
			}
		}
	}
}

func TestManifestFollowsTheSwitches(t *testing.T) {
	b, err := NewBoard("sqli,files:naive")
	if err != nil {
		t.Fatal(err)
	}
	m := b.Manifest()
	got := map[string]Variant{}
	for _, e := range m.Vulnerable {
		got[e.Issue] = e.Variant
	}
	if len(got) != 2 || got["sqli"] != Vulnerable || got["files"] != Naive {
		t.Errorf("vulnerable issues %v, want sqli vulnerable and files naive", got)
	}
	for _, e := range m.Secure {
		if e.Issue == "sqli" || e.Issue == "files" || e.Variant != Secure {
			t.Errorf("secure list holds %+v", e)
		}
	}
	if err := b.Set("all", Secure); err != nil {
		t.Fatal(err)
	}
	if m := b.Manifest(); len(m.Vulnerable) != 0 {
		t.Errorf("all secure, yet vulnerable: %+v", m.Vulnerable)
	}
}
