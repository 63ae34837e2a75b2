package idempotency

import (
	"strings"
	"testing"
)

func TestValidKey(t *testing.T) {
	for key, want := range map[string]bool{
		"order-42":                             true,
		"a":                                    true,
		"0f8fad5b-d9cb-469f-a165-70867728950e": true,
		strings.Repeat("k", 255):               true,
		"":                                     false,
		strings.Repeat("k", 256):               false,
		"has space":                            false,
		"tab\there":                            false,
		"new\nline":                            false,
		"ünïcode":                              false,
	} {
		if got := validKey(key); got != want {
			t.Errorf("validKey(%q) = %v, want %v", key, got, want)
		}
	}
}
