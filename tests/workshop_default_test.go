//go:build !workshop

package tests

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/bulwark-dev/bulwark/internal/app"
)

// The default binary contains no workshop code at all: internal/workshop is
// not among its packages. The workshop build's list is the control that
// shows the check can see the package when it is there.
func TestDefaultBuildHasNoWorkshopCode(t *testing.T) {
	deps := func(tags ...string) string {
		t.Helper()
		args := append([]string{"list", "-deps"}, tags...)
		out, err := exec.CommandContext(t.Context(), "go", append(args, "../cmd/api")...).CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		return string(out)
	}
	const pkg = "github.com/bulwark-dev/bulwark/internal/workshop"
	if strings.Contains(deps(), pkg) {
		t.Errorf("the default build of cmd/api depends on %s", pkg)
	}
	if !strings.Contains(deps("-tags", "workshop"), pkg) {
		t.Errorf("control failed: the workshop build does not list %s", pkg)
	}
}

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
