package tests

import "testing"

// Verbose errors: hostile input never reveals internals (docs/08-errors.md).
func TestErrorAttacks(t *testing.T) { runIssue(t, "errors", nil) }
