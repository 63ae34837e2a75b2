package attack

import (
	"net/netip"
	"testing"
)

// Sources stay inside 127.64.0.0/10, never repeat within a run, and two
// runs start at different points, so a second run does not inherit the
// first one's spent limits.
func TestSources(t *testing.T) {
	space := netip.MustParsePrefix("127.64.0.0/10")
	var s Sources
	seen := map[netip.Addr]bool{}
	for range 1000 {
		a := s.Next()
		if !space.Contains(a) || seen[a] {
			t.Fatalf("%s: outside %s or repeated", a, space)
		}
		seen[a] = true
	}
	var other Sources
	if a := other.Next(); seen[a] {
		t.Errorf("a second Sources started inside the first one's addresses (%s)", a)
	}
}
