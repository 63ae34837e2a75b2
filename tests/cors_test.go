package tests

import "testing"

// CORS: evil, null, look-alike and downgraded origins (docs/09-cors.md).
func TestCORSAttacks(t *testing.T) { runIssue(t, "cors", nil) }
