//go:build workshop

package tests

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-dev/bulwark/tools/score"
)

// Real scanners, Debian's sqlmap and ffuf, against the workshop build on
// loopback, scored against its manifest (attack score, tools/score): the
// scanner is the thing under test here, and the manifest is the answer
// key. Every run is bounded in requests (one parameter, level and risk 1,
// boolean and time techniques; a wordlist of six) and in time.
//
// The test holds the scoring consistent with what the tools reported:
//   - sqli and files vulnerable: sqlmap's injection in sort and ffuf's
//     traversal each count as coverage of their issue, nothing is false;
//   - naive: ffuf with a plain ../ wordlist finds nothing, and the score
//     says the scanner called the naive fix safe (a naive bypass missed);
//     a wordlist with ....// finds it;
//   - every switch secure: no true finding, and an over-eager ffuf that
//     calls every 403 a finding scores each one a false positive on files.
func TestScannersScoredAgainstTheManifest(t *testing.T) {
	sqlmapBin, ffufBin := scanner(t, "sqlmap"), scanner(t, "ffuf")
	srv := startServer(t, map[string]string{"BULWARK_VULNS": "sqli,files"})
	token, err := srv.Target.Login(t.Context(), srv.Target.Alice)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	plain := writeWordlist(t, dir, "plain.txt", "receipt.txt", "../canary.txt", "../../canary.txt", "../passwd")
	nested := writeWordlist(t, dir, "nested.txt", "receipt.txt", "....//canary.txt", "....//....//canary.txt", "....//passwd")

	sqlmap := func(name string) []score.Finding {
		t.Helper()
		csv := filepath.Join(dir, name+".csv")
		// sort=1 is a value the vulnerable ORDER BY accepts (a column
		// position), so sqlmap's "parameter replace" payloads keep their
		// type and the true and false answers differ (200 against 500).
		run(t, 3*time.Minute, sqlmapBin, "--url", srv.URL+"/api/v1/orders?sort=1", "-H", "Authorization: Bearer "+token,
			"--batch", "--level", "1", "--risk", "1", "--threads", "2", "--time-sec", "1", "--technique=BT", "-p", "sort",
			"--dbms=PostgreSQL", "--flush-session", "--results-file", csv, "--output-dir", filepath.Join(dir, "sqlmap-"+name), "--disable-coloring")
		return parseFile(t, csv, score.ParseSqlmap)
	}
	ffuf := func(name, wordlist, match string) []score.Finding {
		t.Helper()
		out := filepath.Join(dir, name+".json")
		run(t, time.Minute, ffufBin, "-u", srv.URL+"/api/v1/downloads?key=FUZZ", "-w", wordlist, "-mc", match,
			"-t", "2", "-p", "0.02", "-maxtime", "30", "-of", "json", "-o", out, "-s")
		return parseFile(t, out, func(r io.Reader) ([]score.Finding, error) { return score.ParseFfuf(r, "CWE-22") })
	}
	scored := func(findings []score.Finding) score.Report {
		t.Helper()
		var m score.Manifest
		if err := json.Unmarshal([]byte(httpGet(t, srv.URL+"/workshop/api/manifest")), &m); err != nil {
			t.Fatal(err)
		}
		r := score.Score(m, findings)
		var b strings.Builder
		_ = score.Write(&b, r)
		t.Logf("%d findings:\n%s", len(findings), b.String())
		return r
	}

	t.Run("vulnerable", func(t *testing.T) {
		sq, ff := sqlmap("vulnerable"), ffuf("vulnerable", plain, "200")
		if len(sq) == 0 || len(ff) == 0 {
			t.Fatalf("the scanners found nothing in vulnerable code (sqlmap %d, ffuf %d): the test proves nothing", len(sq), len(ff))
		}
		r := scored(append(sq, ff...))
		if !foundIssues(r, "sqli", "files") || len(r.FalsePositives) != 0 || r.TrueFindings != len(sq)+len(ff) {
			t.Errorf("want sqli and files covered by every finding, no false positive: %+v", r)
		}
	})

	t.Run("naive", func(t *testing.T) {
		flipSwitches(t, srv, `{"sqli":"naive","files":"naive"}`)
		sq, plainHits := sqlmap("naive"), ffuf("naive-plain", plain, "200")
		r := scored(append(sq, plainHits...))
		if len(plainHits) != 0 {
			t.Fatalf("the naive filter strips ../: a plain traversal list should find nothing, found %v", plainHits)
		}
		// Whatever sqlmap concluded, the score must say the same.
		if len(sq) > 0 != foundIssues(r, "sqli") || len(sq) == 0 != missedNaive(r, "sqli") {
			t.Errorf("sqlmap reported %d findings in naive sqli, but the score says found=%v naive-missed=%v", len(sq), foundIssues(r, "sqli"), missedNaive(r, "sqli"))
		}
		if !missedNaive(r, "files") {
			t.Errorf("ffuf called the naive files fix safe, and the score does not say so: %+v", r.NaiveMissed)
		}
		nestedHits := ffuf("naive-nested", nested, "200")
		if len(nestedHits) == 0 {
			t.Fatal("....// climbs out of the naive filter, but ffuf found nothing")
		}
		if r := scored(append(sq, nestedHits...)); !foundIssues(r, "files") || missedNaive(r, "files") {
			t.Errorf("the nested traversal was found, and the score does not count it: %+v", r)
		}
	})

	t.Run("all-secure", func(t *testing.T) {
		flipSwitches(t, srv, `{"all":"secure"}`)
		sq, ff := sqlmap("secure"), ffuf("secure", nested, "200")
		eager := ffuf("secure-eager", plain, "403") // every refusal called a finding
		if len(eager) == 0 {
			t.Fatal("the over-eager matcher matched nothing: the secure download route answers 403")
		}
		all := slices.Concat(sq, ff, eager)
		r := scored(all)
		if r.TrueFindings != 0 || len(r.Found) != 0 || len(r.Issues) != 0 {
			t.Errorf("nothing is vulnerable, yet the score counts true findings: %+v", r)
		}
		if len(r.FalsePositives) != len(all) {
			t.Errorf("%d findings, %d false positives: every finding against secure code is false", len(all), len(r.FalsePositives))
		}
		for _, fp := range r.FalsePositives {
			if fp.Finding.Tool == "ffuf" && fp.Issue != "files" {
				t.Errorf("ffuf's finding %s should land on files (secure), got %q", fp.Finding, fp.Issue)
			}
		}
	})
}

// scanner finds a scanner on PATH; without it the test is skipped, except
// in CI, where it fails: .ci/run installs both from Debian.
func scanner(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no %s on PATH, and CI is set: .ci/run installs it (apt-get install sqlmap ffuf)", name)
		}
		t.Skipf("no %s on PATH; install it to score it: apt-get install sqlmap ffuf", name)
	}
	return path
}

// run runs a scanner within a time bound and logs its output's tail.
func run(t *testing.T, limit time.Duration, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput() //nolint:gosec // the test's own scanner invocations.
	if ctx.Err() != nil {
		t.Fatalf("%s did not finish within %s:\n%s", filepath.Base(name), limit, tail(out))
	}
	if err != nil {
		t.Fatalf("%s: %v\n%s", filepath.Base(name), err, tail(out))
	}
}

func tail(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.Join(lines[max(0, len(lines)-15):], "\n")
}

func parseFile(t *testing.T, name string, parse func(io.Reader) ([]score.Finding, error)) []score.Finding {
	t.Helper()
	f, err := os.Open(name) //nolint:gosec // the scanner's output in the test's temp dir.
	if err != nil {
		if os.IsNotExist(err) {
			return nil // sqlmap writes no results file when it found nothing to write
		}
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	findings, err := parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return findings
}

func writeWordlist(t *testing.T, dir, name string, words ...string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(strings.Join(words, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func flipSwitches(t *testing.T, srv *server, body string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPut, srv.URL+"/workshop/switches", strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT /workshop/switches %s: %d", body, resp.StatusCode)
	}
}

func foundIssues(r score.Report, issues ...string) bool {
	for _, issue := range issues {
		if !slices.ContainsFunc(r.Found, func(e score.Exposure) bool { return e.Issue == issue }) {
			return false
		}
	}
	return true
}

func missedNaive(r score.Report, issue string) bool {
	return slices.ContainsFunc(r.NaiveMissed, func(e score.Exposure) bool { return e.Issue == issue })
}
