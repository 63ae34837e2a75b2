package coupons

import (
	"errors"
	"strings"
	"testing"
)

func TestNewCodeParsesBackToItsCanonicalForm(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		code := NewCode()
		if len(code) != codeLength+codeLength/groupSize-1 || strings.Count(code, "-") != codeLength/groupSize-1 {
			t.Fatalf("code %q is not in groups of %d", code, groupSize)
		}
		canonical, ok := ParseCode(strings.ToLower(code))
		if !ok || canonical != strings.ReplaceAll(code, "-", "") {
			t.Fatalf("ParseCode(%q) = %q, %v", code, canonical, ok)
		}
		if seen[canonical] {
			t.Fatalf("code %q drawn twice in 100", code)
		}
		seen[canonical] = true
	}
}

func TestParseCodeRefusesWhatWasNeverIssued(t *testing.T) {
	for _, bad := range []string{
		"", "ABCDE", "ABCDE-ABCDE-ABCDE-ABCD", "ABCDE-ABCDE-ABCDE-ABCDEF", // lengths
		"ABCDE-ABCDE-ABCDE-ABCDI", "ABCDE-ABCDE-ABCDE-ABCDU", "ABCDE-ABCDE-ABCDE-ABCD!", // letters outside the alphabet
		"ABCDE-ABCDE-ABCDE-ABCD\x00", strings.Repeat("A", 41), "' OR 1=1 --",
	} {
		if c, ok := ParseCode(bad); ok {
			t.Errorf("ParseCode(%q) accepted it as %q", bad, c)
		}
	}
}

func TestDiscount(t *testing.T) {
	pct := func(n int32) *int32 { return &n }
	amt := func(n int64) *int64 { return &n }
	tests := []struct {
		name     string
		terms    Terms
		subtotal int64
		currency string
		want     int64
		err      error
	}{
		{"percent rounds down", Terms{PercentOff: pct(10)}, 1299, "EUR", 129, nil},
		{"percent of any currency", Terms{PercentOff: pct(50), Currency: "EUR"}, 1000, "USD", 500, nil},
		{"all of it", Terms{PercentOff: pct(100)}, 8900, "EUR", 8900, nil},
		{"amount", Terms{AmountOffCents: amt(500), Currency: "EUR"}, 8900, "EUR", 500, nil},
		{"amount never above the subtotal", Terms{AmountOffCents: amt(10000), Currency: "EUR"}, 8900, "EUR", 8900, nil},
		{"amount in another currency", Terms{AmountOffCents: amt(500), Currency: "USD"}, 8900, "EUR", 0, ErrOtherCurrency},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.terms.Discount(tt.subtotal, tt.currency)
			if got != tt.want || !errors.Is(err, tt.err) {
				t.Errorf("Discount(%d, %s) = %d, %v; want %d, %v", tt.subtotal, tt.currency, got, err, tt.want, tt.err)
			}
		})
	}
}
