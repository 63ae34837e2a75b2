//go:build !workshop

package tests

import (
	"testing"

	"github.com/bulwark-dev/bulwark/tools/attack"
)

// checkResponses makes every response the black-box suite receives through
// its attack target a check of api/openapi.yaml: each attack test is then
// also a test that the answers it provoked, errors included, are documented
// (OWASP API9). The catalogue knows nothing of this: it only talks through
// Target.HTTP, whose transport is swapped here.
func checkResponses(t *testing.T, target *attack.Target) {
	t.Helper()
	target.HTTP.Transport = newConformance(t, target.HTTP.Transport)
}
