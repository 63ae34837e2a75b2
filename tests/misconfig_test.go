package tests

import "testing"

// Security headers on every response, errors included (docs/misconfiguration.md).
func TestMisconfigurationAttacks(t *testing.T) { runIssue(t, "misconfig", nil) }
