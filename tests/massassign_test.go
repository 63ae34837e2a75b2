package tests

import "testing"

// Mass assignment: extra, differently-cased and duplicated fields
// (docs/02-mass-assignment.md).
func TestMassAssignmentAttacks(t *testing.T) { runIssue(t, "mass-assignment", nil) }
