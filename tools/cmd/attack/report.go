package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"

	"github.com/bulwark-dev/bulwark/tools/attack"
)

// tableWidth is the terminal width the table is fitted to; the evidence
// column gets what the other columns leave.
const tableWidth = 120

// columnGap is the space tabwriter puts between columns.
const columnGap = 2

// minEvidence keeps the evidence readable even when ids grow long.
const minEvidence = 30

// summary counts the outcomes by verdict.
type summary struct {
	blocked, exploited, skipped, errors int
}

func summarize(outcomes []outcome) summary {
	var s summary
	for _, o := range outcomes {
		switch o.Verdict {
		case string(attack.Blocked):
			s.blocked++
		case string(attack.Exploited):
			s.exploited++
		case string(attack.Skipped):
			s.skipped++
		default:
			s.errors++ // verdictError, or a verdict this runner does not know: never a pass
		}
	}
	return s
}

func writeSummary(w io.Writer, s summary) error {
	_, err := fmt.Fprintf(w, "summary: %d blocked, %d exploited, %d skipped, %d errors\n", s.blocked, s.exploited, s.skipped, s.errors)
	return err
}

// writeTable prints one line per attack, the evidence cut to fit the width.
func writeTable(w io.Writer, outcomes []outcome) error {
	issueWidth, idWidth := len("ISSUE"), len("ATTACK")
	for _, o := range outcomes {
		issueWidth = max(issueWidth, utf8.RuneCountInString(o.Attack.Issue))
		idWidth = max(idWidth, utf8.RuneCountInString(o.Attack.ID))
	}
	verdictWidth := len(attack.Exploited) // the longest verdict
	evidenceWidth := max(minEvidence, tableWidth-issueWidth-idWidth-verdictWidth-3*columnGap)

	tw := tabwriter.NewWriter(w, 0, 0, columnGap, ' ', 0)
	_, _ = fmt.Fprintln(tw, "ISSUE\tATTACK\tVERDICT\tEVIDENCE")
	truncated := false
	for _, o := range outcomes {
		evidence, cut := fit(printable(o.Evidence), evidenceWidth)
		truncated = truncated || (cut && o.Verdict != verdictError) // errors are printed whole below
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", printable(o.Attack.Issue), printable(o.Attack.ID), o.Verdict, evidence)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	if truncated {
		if _, err := fmt.Fprintln(w, "(evidence cut to fit; -json prints it in full)"); err != nil {
			return fmt.Errorf("write table: %w", err)
		}
	}
	for _, o := range outcomes {
		if len(o.Cases) > 0 {
			if err := writeCases(w, o); err != nil {
				return err
			}
		}
	}
	// An error's cause and its hint (restart the server, raise -timeout)
	// are at its end, where the table cuts; errors are printed whole.
	for _, o := range outcomes {
		if o.Verdict != verdictError {
			continue
		}
		if _, err := fmt.Fprintf(w, "%s %s: %s\n", verdictError, printable(o.Attack.ID), printable(o.Evidence)); err != nil {
			return fmt.Errorf("write table: %w", err)
		}
	}
	return nil
}

// writeCases prints a battery's cases per operation and in total, then
// the evidence of each case that was not blocked.
func writeCases(w io.Writer, o outcome) error {
	if _, err := fmt.Fprintf(w, "\n%s: cases per operation\n", printable(o.Attack.ID)); err != nil {
		return fmt.Errorf("write cases: %w", err)
	}
	tw := tabwriter.NewWriter(w, 0, 0, columnGap, ' ', 0)
	_, _ = fmt.Fprintln(tw, "OPERATION\tMETHOD\tPATH\tPOLICY\tTRIED\tBLOCKED\tEXPLOITED\tSKIPPED\tUNPROVEN")
	var sum attack.Tally
	for _, c := range o.Cases {
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n", printable(c.Operation), printable(c.Method), printable(c.Path), printable(c.Policy),
			c.Tried, c.Blocked, c.Exploited, c.Skipped, c.Unproven)
		sum.Tried += c.Tried
		sum.Blocked += c.Blocked
		sum.Exploited += c.Exploited
		sum.Skipped += c.Skipped
		sum.Unproven += c.Unproven
	}
	_, _ = fmt.Fprintf(tw, "total\t\t\t\t%d\t%d\t%d\t%d\t%d\n", sum.Tried, sum.Blocked, sum.Exploited, sum.Skipped, sum.Unproven)
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write cases: %w", err)
	}
	for _, c := range o.Cases {
		for _, f := range c.Findings {
			if _, err := fmt.Fprintf(w, "  %s: %s\n", printable(c.Operation), printable(f)); err != nil {
				return fmt.Errorf("write cases: %w", err)
			}
		}
	}
	return nil
}

// fit cuts s to n runes, marking the cut with an ellipsis.
func fit(s string, n int) (string, bool) {
	if utf8.RuneCountInString(s) <= n {
		return s, false
	}
	r := []rune(s)
	return string(r[:n-1]) + "…", true
}

// printable makes text safe for a terminal and for tabwriter. Evidence
// quotes the server's responses, and a hostile server could answer with
// escape sequences that rewrite the workshop's terminal, or with tabs and
// newlines that forge lines of the table (a fake BLOCKED). Control and
// bidirectional-override characters are replaced, so what is printed is
// what was received, visibly.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return ' '
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r):
			return '?'
		}
		return r
	}, s)
}

// catalogueEntry is an attack as -list -json prints it.
type catalogueEntry struct {
	ID    string `json:"id"`
	Issue string `json:"issue"`
	OWASP string `json:"owasp"`
	CWE   string `json:"cwe"`
	Story string `json:"story"`
}

// jsonResult is one element of the -json array.
type jsonResult struct {
	catalogueEntry
	Verdict    string         `json:"verdict"`
	Evidence   string         `json:"evidence"`
	DurationMS int64          `json:"duration_ms"`
	Cases      []attack.Tally `json:"cases,omitempty"` // a battery's, per operation
}

func entryOf(a attack.Attack) catalogueEntry {
	return catalogueEntry{ID: a.ID, Issue: a.Issue, OWASP: a.OWASP, CWE: a.CWE, Story: a.Story}
}

// writeJSON prints the full evidence; encoding/json escapes control
// characters, so it needs no printable.
func writeJSON(w io.Writer, outcomes []outcome) error {
	results := make([]jsonResult, 0, len(outcomes)) // [] rather than null when nothing ran
	for _, o := range outcomes {
		results = append(results, jsonResult{
			catalogueEntry: entryOf(o.Attack),
			Verdict:        o.Verdict,
			Evidence:       o.Evidence,
			DurationMS:     o.Duration.Milliseconds(),
			Cases:          o.Cases,
		})
	}
	return encodeJSON(w, results)
}

// writeList prints the catalogue; nothing is sent to any server.
func writeList(w io.Writer, attacks []attack.Attack, asJSON bool) error {
	if asJSON {
		entries := make([]catalogueEntry, 0, len(attacks))
		for _, a := range attacks {
			entries = append(entries, entryOf(a))
		}
		return encodeJSON(w, entries)
	}
	tw := tabwriter.NewWriter(w, 0, 0, columnGap, ' ', 0)
	_, _ = fmt.Fprintln(tw, "ATTACK\tISSUE\tOWASP\tCWE\tSTORY")
	for _, a := range attacks {
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.ID, a.Issue, a.OWASP, a.CWE, a.Story)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write list: %w", err)
	}
	return nil
}

func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Evidence quotes HTTP exchanges; "<" and "&" stay readable rather than
	// becoming \u003c, since nothing embeds this output in HTML.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}
