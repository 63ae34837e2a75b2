package main

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// generatedQueries is where sqlc wrote the SQL the endpoint runs. The
// pgbench script is built from these constants, so it runs the endpoint's
// SQL exactly, and stays in step when a query changes.
const generatedQueries = "internal/db/orders.sql.go"

// endpointQueries are the sqlc constants GET /orders/{id} executes: the
// ownership-scoped order with its items, one statement (orders.ResolveOwned).
func endpointQueries() []string { return []string{"getOrderWithItemsForOwner"} }

// pgbenchScript writes the script: pick a random regular order n and its
// owner u as the load generator does, then run the endpoint's queries with
// the ids built from n and u in SQL. Parameters $1/$2 are replaced by those
// expressions; with -M prepared, pgbench still sends :n and :u as
// parameters of a prepared statement, as pgx does.
func pgbenchScript(d Dataset, path string) error {
	sqls, err := readConstants(generatedQueries, endpointQueries())
	if err != nil {
		return err
	}
	order, owner := sqlID(kindOrder, ":n"), sqlID(kindUser, ":u")
	get := strings.NewReplacer("$1", order, "$2", owner).Replace(sqls[0])
	script := fmt.Sprintf("\\set n random(%d, %d)\n\\set u :n / %d\n%s;\n",
		d.FirstRegularOrder(), d.LastRegularOrder(), d.RegularOrders, stripComments(get))
	return os.WriteFile(path, []byte(script), 0o600)
}

// readConstants returns the values of the named string constants of a Go file.
func readConstants(path string, names []string) ([]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		return nil, fmt.Errorf("read the endpoint's SQL (run from the repository root): %w", err)
	}
	found := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok || len(spec.Names) != 1 || len(spec.Values) != 1 {
			return true
		}
		if lit, ok := spec.Values[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if v, err := strconv.Unquote(lit.Value); err == nil {
				found[spec.Names[0].Name] = v
			}
		}
		return true
	})
	out := make([]string, 0, len(names))
	for _, name := range names {
		v, ok := found[name]
		if !ok {
			return nil, fmt.Errorf("%s has no constant %s", path, name)
		}
		out = append(out, v)
	}
	return out, nil
}

func stripComments(sql string) string {
	var lines []string
	for line := range strings.SplitSeq(sql, "\n") {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "--") {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, "\n")
}

// runPgbench runs the script for d at the given concurrency and returns
// its transactions (script runs) per second.
func runPgbench(ctx context.Context, databaseURL, script string, clients int, d time.Duration) (float64, error) {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return 0, errors.New("database URL does not parse")
	}
	password, _ := u.User.Password()
	secs := max(1, int(d.Round(time.Second)/time.Second))
	args := []string{
		"-n", // no vacuum: the tables are pgbench's own otherwise
		"-M", "prepared",
		"-f", script,
		"-c", strconv.Itoa(clients),
		"-j", strconv.Itoa(min(clients, 2)),
		"-T", strconv.Itoa(secs),
		"-h", u.Hostname(), "-p", u.Port(), "-U", u.User.Username(),
		strings.TrimPrefix(u.Path, "/"),
	}
	cmd := exec.CommandContext(ctx, "pgbench", args...) //nolint:gosec // fixed program; arguments built here, none from input.
	// The password goes through the environment, never the command line,
	// which every user of the machine can read.
	cmd.Env = append(os.Environ(), "PGPASSWORD="+password, "PGSSLMODE=disable")
	cmd.Dir = filepath.Dir(script)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench: %w\n%s", err, out)
	}
	m := regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`).FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("pgbench printed no tps:\n%s", out)
	}
	if failed := regexp.MustCompile(`number of failed transactions: ([1-9][0-9]*)`).FindSubmatch(out); failed != nil {
		return 0, fmt.Errorf("pgbench: %s transactions failed", failed[1])
	}
	return strconv.ParseFloat(string(m[1]), 64)
}
