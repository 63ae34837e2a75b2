package tests

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Docs tell the truth about the code: every repository path a page names
// in backticks (`internal/orders/list.go`, `tools/attack/bola.go:96`,
// `internal/files/localfs/`) exists. A file moved or renamed without its
// docs fails here, and so does a page pointing at a document the project
// does not have.
func TestDocsNameOnlyPathsThatExist(t *testing.T) {
	pages, err := filepath.Glob("../docs/*.md")
	if err != nil || len(pages) < 10 {
		t.Fatalf("docs: %v (%d pages)", err, len(pages))
	}
	pages = append(pages, "../README.md")
	// A path starts with one of the project's top-level folders.
	path := regexp.MustCompile("`((?:internal|cmd|tools|tests|db|api|docs|deploy|scripts|\\.github)/[A-Za-z0-9_./-]*)(?::[0-9]+)?`")
	checked := 0
	for _, page := range pages {
		text, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range path.FindAllStringSubmatch(string(text), -1) {
			p := strings.TrimSuffix(m[1], "/")
			if strings.ContainsAny(p, "*") {
				continue
			}
			checked++
			if _, err := os.Stat("../" + p); err != nil {
				t.Errorf("%s names %s, which does not exist", filepath.Base(page), m[1])
			}
		}
	}
	if checked < 50 {
		t.Errorf("checked %d paths: the pattern no longer finds the docs' references", checked)
	}
}

// Code comments point at pages of the project, never at a design document
// a fork does not have.
func TestCommentsPointAtDocsThatExist(t *testing.T) {
	ref := regexp.MustCompile(`(?:docs/)?([A-Za-z0-9_-]+\.md)\b`)
	docs := regexp.MustCompile(`docs/([A-Za-z0-9_-]+\.md)`)
	err := filepath.WalkDir("..", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == ".data" || d.Name() == "bin") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range docs.FindAllStringSubmatch(string(src), -1) {
			if _, err := os.Stat("../docs/" + m[1]); err != nil {
				t.Errorf("%s points at docs/%s, which does not exist", p, m[1])
			}
		}
		// Spelled in two halves so that this file does not name it.
		for _, m := range ref.FindAllStringSubmatch(string(src), -1) {
			if m[1] == "DESIGN"+".md" {
				t.Errorf("%s points at %s, which is not in the project: point at docs/architecture.md or a docs/ page", p, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
