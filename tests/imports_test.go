package tests

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The rule of imports (docs/architecture.md), written down as a test so
// that a fork cannot break it without a red build:
//
//	cmd → app → domains → web, config, postgres → db
//
// tools/ (the attack catalogue, its runner, the benchmark) may import the
// service; the service never imports a tool, with one exception in the
// workshop build (workshopTool). Test helpers (pgtest, webtest, redistest)
// serve tests only. internal/workshop is imported by the workshop build's
// wiring alone.
const module = "github.com/bulwark-dev/bulwark"

// infrastructure are the service packages below the domains: they know
// nothing of orders, files or users.
func infrastructure() []string {
	return []string{"internal/web", "internal/web/secevent", "internal/web/metrics", "internal/config", "internal/postgres", "internal/postgres/cluster", "internal/db"}
}

// testOnly are outside modules that exist for tests and tools; the
// default binary must not carry any of them.
func testOnly() []string {
	return []string{
		"testing", "net/http/httptest",
		"github.com/chromedp/", "github.com/getkin/kin-openapi", "github.com/tsenart/vegeta",
		"github.com/google/go-cmp", "github.com/stretchr/testify",
	}
}

// workshopTool is the one tool the service may import, and only in the
// workshop build's wiring (internal/app/workshop_on.go): the workshop
// console, whose Run button runs the attack catalogue inside the server
// against itself (docs/workshop.md). Running it in the server rather than
// shelling out to the runner keeps the console one binary with no
// subprocess, and the import stays out of the default build, which
// TestDefaultBinaryDependencies checks.
const workshopTool = "tools/console"

type goPackage struct {
	ImportPath string
	Imports    []string // non-test imports only
}

// listPackages runs go list over the whole module with the given build tags.
func listPackages(t *testing.T, tags string) []goPackage {
	t.Helper()
	args := []string{"list", "-e", "-json=ImportPath,Imports"}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	out, err := exec.CommandContext(t.Context(), "go", append(args, module+"/...")...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []goPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p goPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages: the test is not looking at the module", len(pkgs))
	}
	return pkgs
}

// rel strips the module path; outside packages keep their full path.
func rel(path string) string { return strings.TrimPrefix(path, module+"/") }

func under(path, dir string) bool { return path == dir || strings.HasPrefix(path, dir+"/") }

// Test helpers are named like net/http/httptest: pgtest, webtest, redistest.
func isTestHelper(path string) bool {
	last := path[strings.LastIndex(path, "/")+1:]
	return strings.HasPrefix(path, "internal/") && strings.HasSuffix(last, "test")
}

func isTool(path string) bool { return under(path, "tools") }

func isInfrastructure(path string) bool {
	return slices.ContainsFunc(infrastructure(), func(dir string) bool { return path == dir })
}

// isDomain: every other package of the service below app. A new domain
// package a fork adds is covered without editing this test.
func isDomain(path string) bool {
	return strings.HasPrefix(path, "internal/") && !isInfrastructure(path) && !isTestHelper(path) &&
		!under(path, "internal/app") && !under(path, "internal/workshop")
}

// importViolations applies the rule to a list of packages. It is kept
// apart from the test so that the test can show it catches a bad import.
func importViolations(pkgs []goPackage, workshopBuild bool) []string {
	var bad []string
	for _, p := range pkgs {
		from := rel(p.ImportPath)
		service := strings.HasPrefix(from, "internal/") || strings.HasPrefix(from, "cmd/") || from == "api"
		for _, imp := range p.Imports {
			to := rel(imp)
			switch {
			case service && isTool(to) && (!workshopBuild || from != "internal/app" || to != workshopTool):
				bad = append(bad, from+" imports the tool "+to+": the service never depends on its tools")
			case service && !isTestHelper(from) && isTestHelper(to):
				bad = append(bad, from+" imports the test helper "+to)
			case isDomain(from) && (under(to, "internal/app") || under(to, "cmd")):
				bad = append(bad, from+" imports "+to+": imports flow one way, cmd → app → domains")
			case isInfrastructure(from) && (isDomain(to) || under(to, "internal/app")):
				bad = append(bad, from+" imports "+to+": infrastructure knows no domain")
			case under(to, "internal/workshop") && (!workshopBuild || from != "internal/app") && !under(from, "internal/workshop"):
				bad = append(bad, from+" imports "+to+": only the workshop build's wiring (internal/app/workshop_on.go) may")
			}
		}
	}
	return bad
}

func TestImportRule(t *testing.T) {
	for _, build := range []struct {
		name, tags string
	}{{"default", ""}, {"workshop", "workshop"}} {
		t.Run(build.name, func(t *testing.T) {
			for _, v := range importViolations(listPackages(t, build.tags), build.tags == "workshop") {
				t.Error(v)
			}
		})
	}
}

// The rule must see a bad import when there is one: each case is a
// package that breaks one clause.
func TestImportRuleCatchesViolations(t *testing.T) {
	for _, p := range []goPackage{
		{ImportPath: module + "/internal/orders", Imports: []string{module + "/tools/attack"}},
		{ImportPath: module + "/internal/coupons", Imports: []string{module + "/internal/app"}},
		{ImportPath: module + "/internal/web", Imports: []string{module + "/internal/orders"}},
		{ImportPath: module + "/internal/files", Imports: []string{module + "/internal/workshop"}},
		{ImportPath: module + "/internal/auth", Imports: []string{module + "/internal/postgres/pgtest"}},
		// The console is allowed only to the workshop build's wiring.
		{ImportPath: module + "/internal/app", Imports: []string{module + "/" + workshopTool}},
	} {
		if v := importViolations([]goPackage{p}, false); len(v) != 1 {
			t.Errorf("%s importing %v: got %d violations %q, want 1", rel(p.ImportPath), p.Imports, len(v), v)
		}
	}
	ok := goPackage{ImportPath: module + "/internal/admin", Imports: []string{module + "/internal/orders", module + "/internal/web"}}
	if v := importViolations([]goPackage{ok}, false); len(v) != 0 {
		t.Errorf("allowed imports refused: %q", v)
	}
	wiring := goPackage{ImportPath: module + "/internal/app", Imports: []string{module + "/" + workshopTool}}
	if v := importViolations([]goPackage{wiring}, true); len(v) != 0 {
		t.Errorf("the workshop build's wiring may import the console: %q", v)
	}
	elsewhere := goPackage{ImportPath: module + "/internal/orders", Imports: []string{module + "/" + workshopTool}}
	if v := importViolations([]goPackage{elsewhere}, true); len(v) != 1 {
		t.Errorf("only the wiring may import the console, even in the workshop build: %q", v)
	}
}

// The default binary carries no tool, test helper, workshop code or
// test-only library; the workshop build's list is the control that shows
// the check sees a package when it is there.
func TestDefaultBinaryDependencies(t *testing.T) {
	deps := func(tags ...string) []string {
		t.Helper()
		args := append([]string{"list", "-deps"}, tags...)
		out, err := exec.CommandContext(t.Context(), "go", append(args, "../cmd/api")...).Output()
		if err != nil {
			t.Fatalf("go list -deps: %v", err)
		}
		return strings.Fields(string(out))
	}
	for _, dep := range deps() {
		path, ours := strings.CutPrefix(dep, module+"/")
		if ours && (isTool(path) || isTestHelper(path) || under(path, "internal/workshop")) ||
			slices.ContainsFunc(testOnly(), func(p string) bool { return dep == p || strings.HasPrefix(dep, p) }) {
			t.Errorf("the default build of cmd/api depends on %s", dep)
		}
	}
	workshopDeps := deps("-tags", "workshop")
	for _, want := range []string{"internal/workshop", workshopTool} {
		if !slices.Contains(workshopDeps, module+"/"+want) {
			t.Errorf("control failed: the workshop build does not list %s", want)
		}
	}
}
