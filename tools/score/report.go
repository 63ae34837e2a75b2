package score

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"unicode"
)

// Write prints the report for a person: coverage per issue that is not
// secure now, then the misses, the naive bypasses missed and the false
// positives, each one line.
func Write(w io.Writer, r Report) error {
	var b strings.Builder
	var unsafe []string
	for issue, v := range r.Switches {
		if v != "secure" {
			unsafe = append(unsafe, issue+"="+v)
		}
	}
	sort.Strings(unsafe)
	if len(unsafe) == 0 {
		b.WriteString("Ground truth: every issue is secure, so any finding is a false positive.\n\n")
	} else {
		fmt.Fprintf(&b, "Ground truth: %s (every other issue secure).\n\n", strings.Join(unsafe, ", "))
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "ISSUE\tVARIANT\tEXPOSURES\tFOUND\tCOVERAGE")
	var exposures, found int
	for _, s := range r.Issues {
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", s.Issue, s.Variant, s.Exposures, s.Found, percent(s.Found, s.Exposures))
		exposures += s.Exposures
		found += s.Found
	}
	_, _ = fmt.Fprintf(tw, "total\t\t%d\t%d\t%s\n", exposures, found, percent(found, exposures))
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write score: %w", err)
	}
	section := func(title string, lines []string) {
		fmt.Fprintf(&b, "\n%s: %d\n", title, len(lines))
		for _, l := range lines {
			fmt.Fprintf(&b, "  %s\n", printable(l))
		}
	}
	section("Misses (vulnerable now, no finding)", exposureLines(r.Misses))
	section("Naive bypasses missed (the scanner calls the naive fix safe)", exposureLines(r.NaiveMissed))
	var fps []string
	for _, fp := range r.FalsePositives {
		where := "on no exposure of any issue"
		if fp.Issue != "" {
			where = "on " + fp.Issue + ", which is secure now"
		}
		fps = append(fps, fp.Finding.String()+" -- "+where)
	}
	section("False positives (findings where nothing is vulnerable now)", fps)
	fmt.Fprintf(&b, "\n%d true findings, %d false positives.\n", r.TrueFindings, len(r.FalsePositives))
	_, err := io.WriteString(w, b.String())
	return err
}

func exposureLines(es []Exposure) []string {
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, e.Issue+" "+e.Variant+": "+e.String())
	}
	return out
}

func percent(n, of int) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%d%%", n*100/of)
}

// printable keeps a scanner's output (URLs it requested, titles it made
// up) from writing escape sequences to the terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return '?'
		}
		return r
	}, s)
}
