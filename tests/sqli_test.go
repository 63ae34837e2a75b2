package tests

import "testing"

// SQL injection: hostile sort, status, limit and cursor values on the
// customer and staff order lists, each refused with a 400 naming the
// parameter, never a silent default (docs/05-sql-injection.md).
func TestSQLInjectionAttacks(t *testing.T) { runIssue(t, "sqli", nil) }
