// Package tests is the black-box suite: each test boots the real service
// (internal/app.Run, the code main runs) against a fresh, migrated and
// seeded PostgreSQL database, and attacks it over HTTP like an outsider.
// The attacks themselves live in tools/attack, the one catalogue the
// workshop runner also uses.
package tests

import (
	"testing"

	"github.com/bulwark-dev/bulwark/internal/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
