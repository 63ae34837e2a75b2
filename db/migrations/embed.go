// Package migrations holds the goose SQL migrations, embedded so that the
// binary can migrate a database without the source tree beside it.
package migrations

import "embed"

// FS is the set of migration files, in goose's zero-padded order.
//
//go:embed *.sql
var FS embed.FS //nolint:gochecknoglobals // go:embed needs a package-level variable.
