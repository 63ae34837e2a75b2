package tests

import "testing"

// Sensitive business flows (docs/12-business-flows.md): one burst of
// parallel requests per flow, against a fresh server, and the effects
// counted back: each is BLOCKED. The repeated races with many rounds are
// in races_test.go.
func TestBusinessFlowAttacks(t *testing.T) { runIssue(t, "business-flows", nil) }
