package score

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func manifest(sqli, files string) Manifest {
	m := Manifest{Switches: map[string]string{"sqli": sqli, "files": files, "cors": "secure"}}
	add := func(variant string, e Exposure) {
		e.Variant = variant
		if variant == "secure" {
			m.Secure = append(m.Secure, e)
		} else {
			m.Vulnerable = append(m.Vulnerable, e)
		}
	}
	add(sqli, Exposure{Issue: "sqli", Method: "GET", Path: "/api/v1/orders", Parameter: "sort", In: "query", CWE: "CWE-89"})
	add(files, Exposure{Issue: "files", Method: "GET", Path: "/api/v1/downloads", Parameter: "key", In: "query", CWE: "CWE-22"})
	add("secure", Exposure{Issue: "cors", Method: "*", Path: "/api/v1/*", Parameter: "Origin", In: "header", CWE: "CWE-942"})
	return m
}

// Real output of sqlmap 1.7.2 and ffuf 1.1.0 against the workshop build.
const (
	sqlmapCSV = "Target URL,Place,Parameter,Technique(s),Note(s)\nhttp://127.0.0.1:18380/api/v1/orders?sort=1,GET,sort,B,\n"
	ffufJSON  = `{"commandline":"ffuf …","results":[{"input":{"FUZZ":"../../etc/passwd"},"status":200,"url":"http://127.0.0.1:18380/api/v1/downloads?key=../../etc/passwd"}],` +
		`"config":{"url":"http://127.0.0.1:18380/api/v1/downloads?key=FUZZ","method":"GET"}}`
)

func TestParsers(t *testing.T) {
	sq, err := ParseSqlmap(strings.NewReader(sqlmapCSV))
	if err != nil {
		t.Fatal(err)
	}
	want := []Finding{{Tool: "sqlmap", Method: "GET", URL: "http://127.0.0.1:18380/api/v1/orders?sort=1", Parameter: "sort", CWE: "CWE-89", Title: "SQL injection (B)"}}
	if diff := cmp.Diff(want, sq); diff != "" {
		t.Errorf("sqlmap (-want +got):\n%s", diff)
	}
	ff, err := ParseFfuf(strings.NewReader(ffufJSON), "CWE-22")
	if err != nil {
		t.Fatal(err)
	}
	want = []Finding{{Tool: "ffuf", Method: "GET", URL: "http://127.0.0.1:18380/api/v1/downloads?key=../../etc/passwd", Parameter: "key", CWE: "CWE-22"}}
	if diff := cmp.Diff(want, ff); diff != "" {
		t.Errorf("ffuf (-want +got):\n%s", diff)
	}
	g, err := ParseGeneric(strings.NewReader(`{"tool":"zap","findings":[{"url":"/api/v1/orders?sort=x","parameter":"sort","cwe":"CWE-89"}]}`))
	if err != nil || len(g) != 1 || g[0].Tool != "zap" {
		t.Errorf("generic: %+v %v", g, err)
	}
	for name, bad := range map[string]func() error{
		"sqlmap without its header": func() error { _, err := ParseSqlmap(strings.NewReader("a,b,c\n")); return err },
		"ffuf without config":       func() error { _, err := ParseFfuf(strings.NewReader(`{"results":[]}`), ""); return err },
		"generic without url":       func() error { _, err := ParseGeneric(strings.NewReader(`{"findings":[{"cwe":"CWE-89"}]}`)); return err },
		"generic with a typo":       func() error { _, err := ParseGeneric(strings.NewReader(`{"finding":[]}`)); return err },
	} {
		if bad() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestScore(t *testing.T) {
	sq, _ := ParseSqlmap(strings.NewReader(sqlmapCSV))
	ff, _ := ParseFfuf(strings.NewReader(ffufJSON), "CWE-22")
	elsewhere := Finding{Tool: "x", URL: "/api/v1/products", Parameter: "q", CWE: "CWE-89"}
	wrongCWE := Finding{Tool: "x", URL: "/api/v1/orders?sort=1", Parameter: "sort", CWE: "CWE-79"}
	tests := []struct {
		name                   string
		m                      Manifest
		findings               []Finding
		found, misses, naive   int
		fps                    int
		fpOnSecure             []string
		trueFindings, coverage int
	}{
		{name: "sqlmap finds vulnerable sqli", m: manifest("vulnerable", "secure"), findings: sq, found: 1, trueFindings: 1},
		{name: "sqlmap finds naive sqli", m: manifest("naive", "secure"), findings: sq, found: 1, trueFindings: 1},
		{name: "nothing found on naive files", m: manifest("secure", "naive"), findings: nil, misses: 1, naive: 1},
		{name: "all secure: every finding is false", m: manifest("secure", "secure"), findings: append(sq, ff...), fps: 2, fpOnSecure: []string{"sqli", "files"}},
		{name: "outside the surface", m: manifest("vulnerable", "vulnerable"), findings: []Finding{elsewhere}, misses: 2, fps: 1, fpOnSecure: []string{""}},
		{name: "same place, another weakness", m: manifest("vulnerable", "secure"), findings: []Finding{wrongCWE}, misses: 1, fps: 1, fpOnSecure: []string{""}},
		{name: "both found", m: manifest("vulnerable", "naive"), findings: append(sq, ff...), found: 2, trueFindings: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Score(tt.m, tt.findings)
			if len(r.Found) != tt.found || len(r.Misses) != tt.misses || len(r.NaiveMissed) != tt.naive || len(r.FalsePositives) != tt.fps || r.TrueFindings != tt.trueFindings {
				t.Errorf("found %d misses %d naive %d fps %d true %d; want %d %d %d %d %d",
					len(r.Found), len(r.Misses), len(r.NaiveMissed), len(r.FalsePositives), r.TrueFindings, tt.found, tt.misses, tt.naive, tt.fps, tt.trueFindings)
			}
			for i, issue := range tt.fpOnSecure {
				if i < len(r.FalsePositives) && r.FalsePositives[i].Issue != issue {
					t.Errorf("false positive %d on %q, want %q", i, r.FalsePositives[i].Issue, issue)
				}
			}
			var out bytes.Buffer
			if err := Write(&out, r); err != nil {
				t.Fatal(err)
			}
			t.Log("\n" + out.String())
		})
	}
}

func TestPathMatches(t *testing.T) {
	for _, tt := range []struct {
		template, path string
		want           bool
	}{
		{"/api/v1/orders/{id}", "/api/v1/orders/0de00000-0000-4000-8000-00000000a001", true},
		{"/api/v1/orders/{id}", "/api/v1/orders/", false},
		{"/api/v1/orders/{id}", "/api/v1/orders/x/cancel", false},
		{"/api/v1/*", "/api/v1/users/me", true},
		{"/api/v1/*", "/api/v10", false},
		{"/api/v1/orders", "/api/v1/orders", true},
	} {
		if got := pathMatches(tt.template, tt.path); got != tt.want {
			t.Errorf("pathMatches(%q, %q) = %v", tt.template, tt.path, got)
		}
	}
}
