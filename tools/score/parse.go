package score

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
)

// maxInput bounds what a parser reads: a scanner's output is tool output,
// not something to trust with memory.
const maxInput = 16 << 20

// Generic is the findings format for tools without a parser here:
//
//	{"tool": "nuclei", "findings": [
//	  {"method": "GET", "url": "http://127.0.0.1:8080/api/v1/orders?sort=x",
//	   "parameter": "sort", "cwe": "CWE-89", "title": "SQL injection"}
//	]}
//
// url is required, absolute or a path; method, parameter and cwe narrow
// the match when given (Finding). docs/workshop.md shows a jq line that
// converts a tool's own JSON into it.
type Generic struct {
	Tool     string    `json:"tool"`
	Findings []Finding `json:"findings"`
}

// ParseGeneric reads the generic format.
func ParseGeneric(r io.Reader) ([]Finding, error) {
	var g Generic
	dec := json.NewDecoder(io.LimitReader(r, maxInput))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return nil, fmt.Errorf("generic findings: %w", err)
	}
	for i, f := range g.Findings {
		if f.URL == "" {
			return nil, fmt.Errorf("generic findings: finding %d has no url", i)
		}
		if g.Findings[i].Tool == "" {
			g.Findings[i].Tool = g.Tool
		}
	}
	return g.Findings, nil
}

// ParseSqlmap reads sqlmap's results file (--results-file): a CSV with
// the header "Target URL,Place,Parameter,Technique(s),Note(s)" and one row
// per injection point found. Every row is SQL injection, CWE-89.
func ParseSqlmap(r io.Reader) ([]Finding, error) {
	cr := csv.NewReader(io.LimitReader(r, maxInput))
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("sqlmap results: %w", err)
	}
	if len(rows) == 0 || len(rows[0]) < 3 || rows[0][0] != "Target URL" {
		return nil, errors.New("sqlmap results: no \"Target URL,Place,Parameter,…\" header: is this sqlmap's --results-file?")
	}
	var out []Finding
	for _, row := range rows[1:] {
		if len(row) < 3 || row[0] == "" {
			continue
		}
		f := Finding{Tool: "sqlmap", URL: row[0], Parameter: row[2], CWE: "CWE-89"}
		// Place is where the parameter is: GET and POST are the query and
		// the body, and say the method; URI, Cookie, headers do not.
		switch strings.ToUpper(row[1]) {
		case "GET":
			f.Method = "GET"
		case "POST":
			f.Method = "POST"
		}
		if len(row) > 3 {
			f.Title = "SQL injection (" + row[3] + ")"
		}
		out = append(out, f)
	}
	return out, nil
}

// ParseFfuf reads ffuf's JSON output (-of json): every result is a
// request whose response matched the run's matchers, which is what ffuf
// calls a finding. What the match means is the user's choice of wordlist
// and matcher, so cwe (for example CWE-22 for a traversal wordlist) is
// given by the caller; "" leaves it open. The fuzzed parameter is the
// query parameter whose value held the keyword FUZZ in the run's URL.
func ParseFfuf(r io.Reader, cwe string) ([]Finding, error) {
	var out struct {
		Results []struct {
			URL string `json:"url"`
		} `json:"results"`
		Config struct {
			URL    string `json:"url"`
			Method string `json:"method"`
		} `json:"config"`
	}
	if err := json.NewDecoder(io.LimitReader(r, maxInput)).Decode(&out); err != nil {
		return nil, fmt.Errorf("ffuf output: %w", err)
	}
	if out.Config.URL == "" {
		return nil, errors.New("ffuf output: no config.url: is this ffuf's -of json output?")
	}
	param := fuzzedParameter(out.Config.URL)
	findings := make([]Finding, 0, len(out.Results))
	for _, res := range out.Results {
		findings = append(findings, Finding{Tool: "ffuf", Method: cmp.Or(out.Config.Method, "GET"), URL: res.URL, Parameter: param, CWE: cwe})
	}
	return findings, nil
}

// fuzzedParameter is the query parameter whose value holds FUZZ in an
// ffuf URL; "" when the keyword is elsewhere (the path).
func fuzzedParameter(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	q := u.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if slices.ContainsFunc(q[k], func(v string) bool { return strings.Contains(v, "FUZZ") }) {
			return k
		}
	}
	return ""
}
