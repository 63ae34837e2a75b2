package tests

import "testing"

// Broken authentication: forged, tampered, wrongly scoped and expired
// tokens, user enumeration, refresh token reuse (docs/auth.md).
func TestAuthAttacks(t *testing.T) { runIssue(t, "auth", nil) }
