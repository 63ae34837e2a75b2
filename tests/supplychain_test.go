package tests

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The files a fork's supply chain rests on are read here, because nothing
// else runs them on this machine (there is no Docker engine and no GitHub):
// the toolchain is the same everywhere, the GitHub workflow runs what CI
// runs, actions are pinned by SHA, and every ecosystem gets updates.

func readRepoFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile("../" + path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(b)
}

// submatch returns the first group of re in s, failing the test without one.
func submatch(t *testing.T, re, s, what string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("%s: no match for %s", what, re)
	}
	return m[1]
}

func TestToolchainIsTheSameEverywhere(t *testing.T) {
	want := submatch(t, `(?m)^toolchain go(\S+)$`, readRepoFile(t, "go.mod"), "go.mod")
	if got := submatch(t, `(?m)^export GOTOOLCHAIN=go(\S+)$`, readRepoFile(t, ".ci/run"), ".ci/run"); got != want {
		t.Errorf(".ci/run uses go%s, go.mod's toolchain is go%s", got, want)
	}
	if got := submatch(t, `(?m)^FROM golang:(\S+?)-\S+ AS build$`, readRepoFile(t, "Dockerfile"), "Dockerfile"); got != want {
		t.Errorf("the Dockerfile builds with golang:%s, go.mod's toolchain is go%s", got, want)
	}
}

func TestGitHubWorkflowRunsWhatCIRuns(t *testing.T) {
	wf := readRepoFile(t, ".github/workflows/ci.yml")
	var runs []string
	for _, m := range regexp.MustCompile(`(?m)^\s*run:\s*(.+)$`).FindAllStringSubmatch(wf, -1) {
		runs = append(runs, m[1])
	}
	// One command, and it is .ci/run: a second list of steps would drift
	// from the first the day someone adds a check to one of them.
	if len(runs) != 1 || !strings.Contains(runs[0], "bash .ci/run") {
		t.Errorf("workflow runs %q, want exactly one step running bash .ci/run", runs)
	}
	if !strings.Contains(wf, "go-version-file: go.mod") {
		t.Error("setup-go must take its version from go.mod")
	}
	if !regexp.MustCompile(`(?m)^\s*fetch-depth: 0$`).MatchString(wf) {
		t.Error("checkout must fetch the whole history: gitleaks scans every commit")
	}
	uses := regexp.MustCompile(`(?m)^\s*-?\s*uses:\s*(\S+)`).FindAllStringSubmatch(wf, -1)
	if len(uses) == 0 {
		t.Fatal("no actions found: the test is not reading the workflow")
	}
	pinned := regexp.MustCompile(`^[\w.-]+/[\w.-]+@[0-9a-f]{40}$`)
	for _, u := range uses {
		if !pinned.MatchString(u[1]) {
			t.Errorf("action %s is not pinned to a full commit SHA", u[1])
		}
	}
	// .ci/run is the one place that knows what CI runs; it must hold the
	// checks this project promises (if one is removed there, it is gone
	// from GitHub too, and this test says so).
	ci := readRepoFile(t, ".ci/run")
	for _, target := range []string{"make lint", "make vulncheck", "make lint-openapi", "make test", "make fuzz", "make bench-smoke"} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(target) + `\b`).MatchString(ci) {
			t.Errorf(".ci/run does not run %q", target)
		}
	}
	if !regexp.MustCompile(`(?m)^lint: .*\bsecrets\b`).MatchString(readRepoFile(t, "Makefile")) {
		t.Error("make lint must run the secret scan (make secrets)")
	}
}

func TestDependencyUpdatesCoverEveryEcosystem(t *testing.T) {
	cfg := readRepoFile(t, ".github/dependabot.yml")
	for _, eco := range []struct{ name, dir string }{
		{"gomod", "/"}, {"npm", "/tools/spectral"}, {"docker", "/"}, {"github-actions", "/"},
	} {
		re := `(?m)^\s*- package-ecosystem: ` + regexp.QuoteMeta(eco.name) + `\s*\n\s*directory: ` + regexp.QuoteMeta(eco.dir) + `\s*$`
		if !regexp.MustCompile(re).MatchString(cfg) {
			t.Errorf("dependabot.yml has no %s updates for %s", eco.name, eco.dir)
		}
	}
	if _, err := os.Stat("../tools/spectral/package-lock.json"); err != nil {
		t.Errorf("npm updates need the lock file they update: %v", err)
	}
}
