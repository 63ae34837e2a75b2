package tests

import "testing"

// Broken object level authorization: another customer's order, by every
// route that takes an id, is a 404 like a missing one and stays unchanged
// (docs/01-bola.md).
func TestBOLAAttacks(t *testing.T) { runIssue(t, "bola", nil) }
