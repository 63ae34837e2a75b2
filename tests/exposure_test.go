package tests

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulwark-dev/bulwark/internal/seed"
	"github.com/bulwark-dev/bulwark/tools/attack"
)

// Excessive data exposure: exact key sets, no hash or internal column
// (docs/03-data-exposure.md).
func TestExposureAttacks(t *testing.T) { runIssue(t, "exposure", nil) }

// The attack's list of staff-only values is the seed's, so the exposure
// attacks look for the values that are really in the database.
func TestStaffOnlyValuesMatchSeed(t *testing.T) {
	if diff := cmp.Diff(seed.StaffOnlyValues(), attack.StaffOnlyValues()); diff != "" {
		t.Errorf("attack.StaffOnlyValues differs from the seed (-seed +attack):\n%s", diff)
	}
}
