package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/bulwark-dev/bulwark/tools/score"
)

// scoreUsage introduces `attack score`.
const scoreUsage = `Usage: go run ./tools/cmd/attack score [flags]

Scores a scanner's findings against the ground truth of a workshop server:
its manifest (GET /workshop/api/manifest, workshop build only) of what is
vulnerable right now. Prints coverage per issue that is not secure, the
misses, the naive bypasses the scanner missed (it called the naive fix
safe), and the false positives (findings where nothing is vulnerable).
Fetch the manifest while the switches are as they were during the scan.

Exit status: 0 scored, 2 a usage error or an unreadable input.

Flags:
`

// runScore is `attack score`: it reads, scores and prints; it sends no
// attack.
func runScore(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("attack score", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		manifestFrom string
		ffufCWE      string
		asJSON       bool
		sqlmap, ffuf []string
		generic      []string
	)
	fs.StringVar(&manifestFrom, "manifest", "http://127.0.0.1:8080/workshop/api/manifest", "the ground truth: the workshop server's manifest `URL`, or a file saved from it")
	fs.Func("sqlmap", "sqlmap's results CSV (`FILE` of --results-file); repeatable", func(s string) error { sqlmap = append(sqlmap, s); return nil })
	fs.Func("ffuf", "ffuf's JSON output (`FILE` of -of json -o); repeatable", func(s string) error { ffuf = append(ffuf, s); return nil })
	fs.StringVar(&ffufCWE, "ffuf-cwe", "", "the weakness ffuf's matcher looked for (`CWE`, e.g. CWE-22 for a traversal wordlist); empty matches any")
	fs.Func("findings", "findings in the generic JSON format (`FILE`, docs/workshop.md); repeatable", func(s string) error { generic = append(generic, s); return nil })
	fs.BoolVar(&asJSON, "json", false, "print the score as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			_, _ = io.WriteString(stdout, scoreUsage)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return nil
		}
		return usageErrorf("score: %v (see score -h)", err)
	}
	if fs.NArg() > 0 {
		return usageErrorf("score: unexpected argument %q: everything is a flag (see score -h)", fs.Arg(0))
	}
	if len(sqlmap)+len(ffuf)+len(generic) == 0 {
		return usageErrorf("score: no findings to score: give -sqlmap, -ffuf or -findings")
	}
	m, err := loadManifest(ctx, manifestFrom)
	if err != nil {
		return err
	}
	var findings []score.Finding
	read := func(files []string, parse func(io.Reader) ([]score.Finding, error)) error {
		for _, name := range files {
			f, err := os.Open(name) //nolint:gosec // the user names the scanner output to read.
			if err != nil {
				return usageErrorf("score: %v", err)
			}
			got, err := parse(f)
			_ = f.Close()
			if err != nil {
				return usageErrorf("score: %s: %v", name, err)
			}
			findings = append(findings, got...)
		}
		return nil
	}
	if err := read(sqlmap, score.ParseSqlmap); err != nil {
		return err
	}
	if err := read(ffuf, func(r io.Reader) ([]score.Finding, error) { return score.ParseFfuf(r, ffufCWE) }); err != nil {
		return err
	}
	if err := read(generic, score.ParseGeneric); err != nil {
		return err
	}
	report := score.Score(m, findings)
	if asJSON {
		return encodeJSON(stdout, report)
	}
	return score.Write(stdout, report)
}

// loadManifest reads the manifest from the workshop server or a file.
func loadManifest(ctx context.Context, from string) (score.Manifest, error) {
	var body io.Reader
	if strings.HasPrefix(from, "http://") || strings.HasPrefix(from, "https://") {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, from, nil)
		if err != nil {
			return score.Manifest{}, usageErrorf("score: -manifest %q: %v", from, err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return score.Manifest{}, usageErrorf("score: the manifest: %v (is the workshop build serving there?)", err)
		}
		defer func() { _ = resp.Body.Close() }()
		if resp.StatusCode != http.StatusOK {
			return score.Manifest{}, usageErrorf("score: the manifest: %s answered %d (the default build has no manifest; run the workshop build)", from, resp.StatusCode)
		}
		body = resp.Body
	} else {
		f, err := os.Open(from) //nolint:gosec // the user names the manifest file.
		if err != nil {
			return score.Manifest{}, usageErrorf("score: %v", err)
		}
		defer func() { _ = f.Close() }()
		body = f
	}
	var m score.Manifest
	if err := json.NewDecoder(io.LimitReader(body, 4<<20)).Decode(&m); err != nil {
		return score.Manifest{}, usageErrorf("score: the manifest is not JSON: %v", err)
	}
	if m.Switches == nil {
		return score.Manifest{}, usageErrorf("score: %s has no switches: is it the workshop manifest?", from)
	}
	return m, nil
}
