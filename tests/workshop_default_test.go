//go:build !workshop

package tests

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/bulwark-dev/bulwark/internal/app"
)

// The default binary refuses to start when a workshop setting is present,
// with one line saying how to get the workshop build.
func TestDefaultBuildRefusesWorkshopSettings(t *testing.T) {
	for _, name := range []string{"BULWARK_VULNS", "BULWARK_WORKSHOP_ALLOW_REMOTE"} {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{name: "all"}
			err := app.Run(context.Background(), nil, func(k string) string { return env[k] }, &bytes.Buffer{}, &bytes.Buffer{})
			if err == nil {
				t.Fatal("started")
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "-tags workshop") || !strings.Contains(msg, name) {
				t.Errorf("refusal %q: want one line naming %s and -tags workshop", msg, name)
			}
		})
	}
}
