package tests

import "testing"

// Nested validation: hostile values at every depth of an order are refused
// with their field path named (docs/07-nested-validation.md).
func TestNestedValidationAttacks(t *testing.T) { runIssue(t, "validation", nil) }
