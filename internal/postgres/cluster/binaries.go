package cluster

import (
	"cmp"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
)

// ErrNoBinaries means this machine has no PostgreSQL server to start. Callers
// that can do without one (tests on a laptop) check for it with errors.Is.
var ErrNoBinaries = errors.New(`no PostgreSQL server binaries (initdb, postgres) found: ` +
	`install them (Debian/Ubuntu: apt-get install postgresql) or set DATABASE_URL, or run "docker compose up"`)

// binaries are the two programs a cluster needs. They come from one directory
// so that initdb and the server are always the same major version: a data
// directory made by one version cannot be served by another.
type binaries struct {
	initdb   string
	postgres string
}

// debianBinGlob is where Debian and Ubuntu install the server: postgresql-common
// puts only wrappers on PATH, never initdb or postgres themselves.
const debianBinGlob = "/usr/lib/postgresql/*/bin"

// findBinaries looks on PATH first, so that a developer who put a specific
// version there gets it, then under /usr/lib/postgresql, newest version first.
func findBinaries() (binaries, error) {
	var dirs []string
	if initdb, err := exec.LookPath("initdb"); err == nil {
		// A PATH entry is often a symlink (/usr/local/bin/initdb); the server
		// must be looked for next to the real file, not next to the link.
		if real, err := filepath.EvalSymlinks(initdb); err == nil {
			initdb = real
		}
		dirs = append(dirs, filepath.Dir(initdb))
	}
	dirs = append(dirs, versionDirs()...)

	for _, dir := range dirs {
		b := binaries{
			initdb:   filepath.Join(dir, "initdb"),
			postgres: filepath.Join(dir, "postgres"),
		}
		if isExecutable(b.initdb) && isExecutable(b.postgres) {
			return b, nil
		}
	}
	return binaries{}, ErrNoBinaries
}

// versionDirs lists the Debian layout's bin directories, highest version first.
func versionDirs() []string {
	// The pattern is a constant and valid, so Glob cannot fail.
	matches, _ := filepath.Glob(debianBinGlob)
	version := func(binDir string) float64 {
		// "9.6" and "15" both parse; anything else sorts last.
		v, err := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
		if err != nil {
			return -1
		}
		return v
	}
	slices.SortFunc(matches, func(a, b string) int {
		return cmp.Compare(version(b), version(a))
	})
	return matches
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
