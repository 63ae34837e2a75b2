// Package score scores a scanner's findings against the ground truth of a
// workshop server: its manifest (GET /workshop/api/manifest, the
// workshop build only), which lists where each issue that is not secure
// right now can be exploited, and where each secure one would be. A
// finding on a vulnerable exposure is a true finding; an exposure nobody
// found is a miss, and a miss on a naive variant is a naive bypass the
// scanner called safe; a finding anywhere else is a false positive
// (docs/workshop.md, "Scanners against the ground truth").
//
// The findings come from sqlmap's results CSV (--results-file), ffuf's
// JSON output (-of json), or the generic JSON format of this package
// (Generic), which any other tool's output can be converted to.
package score

import (
	"net/url"
	"slices"
	"strings"
)

// Exposure is one entry of the manifest (internal/workshop.Exposure, as
// JSON): this package reads the manifest, it does not import the
// workshop, so it scores any server that serves one.
type Exposure struct {
	Issue     string `json:"issue"`
	Variant   string `json:"variant"`
	Method    string `json:"method"`
	Path      string `json:"path"`
	Parameter string `json:"parameter,omitempty"`
	In        string `json:"in,omitempty"`
	CWE       string `json:"cwe"`
}

// String is the exposure for a report line.
func (e Exposure) String() string {
	s := e.Method + " " + e.Path
	if e.Parameter != "" {
		s += " " + e.Parameter
		if e.In != "" {
			s += " (" + e.In + ")"
		}
	}
	return s + " " + e.CWE
}

// Manifest is the ground truth at the moment of the scan.
type Manifest struct {
	Switches   map[string]string `json:"switches"`
	Vulnerable []Exposure        `json:"vulnerable"`
	Secure     []Exposure        `json:"secure"`
}

// Finding is one thing a scanner reports. Only URL is required; whatever
// else the tool says narrows the match.
type Finding struct {
	Tool      string `json:"tool,omitempty"`
	Method    string `json:"method,omitempty"`
	URL       string `json:"url"`                 // absolute, or a path with its query
	Parameter string `json:"parameter,omitempty"` // the injectable parameter or header
	CWE       string `json:"cwe,omitempty"`       // e.g. CWE-89
	Title     string `json:"title,omitempty"`
}

// String is the finding for a report line.
func (f Finding) String() string {
	s := strings.TrimSpace(f.Method + " " + f.URL)
	if f.Parameter != "" {
		s += " " + f.Parameter
	}
	if f.CWE != "" {
		s += " " + f.CWE
	}
	if f.Tool != "" {
		s = f.Tool + ": " + s
	}
	return s
}

// IssueScore is one issue that is not secure right now.
type IssueScore struct {
	Issue     string `json:"issue"`
	Variant   string `json:"variant"`
	Exposures int    `json:"exposures"`
	Found     int    `json:"found"`
}

// FalsePositive is a finding where nothing is vulnerable now: on the
// surface of a secure issue (Issue names it), or outside every surface.
type FalsePositive struct {
	Finding Finding `json:"finding"`
	Issue   string  `json:"issue,omitempty"` // the secure issue it landed on; "" if none
}

// Report is the score.
type Report struct {
	Switches       map[string]string `json:"switches"`
	Issues         []IssueScore      `json:"issues"` // the issues not secure now, in manifest order
	Found          []Exposure        `json:"found"`
	Misses         []Exposure        `json:"misses"`
	NaiveMissed    []Exposure        `json:"naive_bypasses_missed"`
	FalsePositives []FalsePositive   `json:"false_positives"`
	TrueFindings   int               `json:"true_findings"` // findings that matched a vulnerable exposure
}

// Score scores the findings against the manifest.
func Score(m Manifest, findings []Finding) Report {
	r := Report{Switches: m.Switches, Issues: []IssueScore{}, Found: []Exposure{}, Misses: []Exposure{}, NaiveMissed: []Exposure{}, FalsePositives: []FalsePositive{}}
	found := make([]bool, len(m.Vulnerable))
	for _, f := range findings {
		hit := false
		for i, e := range m.Vulnerable {
			if matches(e, f) {
				found[i], hit = true, true
			}
		}
		if hit {
			r.TrueFindings++
			continue
		}
		fp := FalsePositive{Finding: f}
		if i := slices.IndexFunc(m.Secure, func(e Exposure) bool { return matches(e, f) }); i >= 0 {
			fp.Issue = m.Secure[i].Issue
		}
		r.FalsePositives = append(r.FalsePositives, fp)
	}
	for i, e := range m.Vulnerable {
		j := slices.IndexFunc(r.Issues, func(s IssueScore) bool { return s.Issue == e.Issue })
		if j < 0 {
			r.Issues = append(r.Issues, IssueScore{Issue: e.Issue, Variant: e.Variant})
			j = len(r.Issues) - 1
		}
		r.Issues[j].Exposures++
		if found[i] {
			r.Issues[j].Found++
			r.Found = append(r.Found, e)
			continue
		}
		r.Misses = append(r.Misses, e)
		if e.Variant == "naive" {
			r.NaiveMissed = append(r.NaiveMissed, e)
		}
	}
	return r
}

// matches reports whether finding f is about exposure e: the path fits
// the exposure's template, and the method, the parameter and the CWE agree
// wherever both sides name one.
func matches(e Exposure, f Finding) bool {
	if !pathMatches(e.Path, findingPath(f.URL)) {
		return false
	}
	if e.Method != "*" && f.Method != "" && !strings.EqualFold(e.Method, f.Method) {
		return false
	}
	if e.Parameter != "" && f.Parameter != "" && !strings.EqualFold(e.Parameter, f.Parameter) {
		return false
	}
	if e.CWE != "" && f.CWE != "" && !strings.EqualFold(e.CWE, f.CWE) {
		return false
	}
	return true
}

// findingPath is the path of a finding's URL, absolute or not.
func findingPath(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Path == "" {
		p, _, _ := strings.Cut(raw, "?")
		return p
	}
	return u.Path
}

// pathMatches fits a path to a template: {name} is one segment, a
// trailing /* is anything below.
func pathMatches(template, path string) bool {
	if prefix, ok := strings.CutSuffix(template, "/*"); ok {
		return path == prefix || strings.HasPrefix(path, prefix+"/")
	}
	ts, ps := strings.Split(template, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i, t := range ts {
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
			if ps[i] == "" {
				return false
			}
			continue
		}
		if t != ps[i] {
			return false
		}
	}
	return true
}
