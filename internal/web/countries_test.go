package web_test

import (
	"testing"

	"github.com/bulwark-dev/bulwark/internal/web"
)

func TestCountryCodesAreISO3166(t *testing.T) {
	for code, want := range map[string]bool{
		"US": true, "DE": true, "GB": true, "AX": true, "ZW": true, "SS": true,
		// Two capital letters that are no country.
		"XX": false, "ZZ": false, "EU": false, "UK": false, "AA": false, "QZ": false,
		"us": false, "U": false, "USA": false, "": false, "D ": false, " A": false,
	} {
		if got := web.IsCountryCode(code); got != want {
			t.Errorf("IsCountryCode(%q) = %v, want %v", code, got, want)
		}
	}
}
