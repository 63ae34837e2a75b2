package tests

import "testing"

// Excessive data exposure: exact key sets, no hash or internal column
// (docs/03-data-exposure.md).
func TestExposureAttacks(t *testing.T) { runIssue(t, "exposure", nil) }
