//go:build workshop

// Package workshop holds the vulnerable and naive variants of the secure
// parts, for teaching: a facilitator switches an issue to "vulnerable" (what
// teams ship), "naive" (the tempting fix that still fails) or back to
// "secure", and shows the attack runner's verdict change. It exists only
// in the workshop build (go build -tags workshop); the default build
// contains none of it, and refuses to start when a workshop setting is
// present (docs/workshop.md).
//
// Every variant is a part with the same shape as the secure one, chosen per
// request from the Board, so switches flip live without a restart and the
// secure code never checks for the workshop.
package workshop

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Variant is the state of one issue.
type Variant string

// The three variants of every issue.
const (
	Secure     Variant = "secure"
	Vulnerable Variant = "vulnerable"
	Naive      Variant = "naive"
)

// RLSOnly is bola's fourth variant: the application's ownership check is
// gone, and row-level security alone still stops bob (internal/workshop/bola.go).
const RLSOnly Variant = "rls-only"

// Issues are the issues that have workshop variants (docs/workshop.md):
// the nine, the two of the third-party boundary (ssrf, webhook) and the
// business flows, by the slug the attack catalogue uses.
func Issues() []string {
	return []string{"bola", "mass-assignment", "exposure", "ratelimit", "sqli", "files", "validation", "errors", "cors", "ssrf", "webhook", "business-flows"}
}

// extraVariants are the variants an issue has beyond the three, by issue:
// a demonstration that needs a fourth state declares it here, and the
// switchboard, the console and the manifest offer it with the others.
func extraVariants() map[string][]Variant {
	return map[string][]Variant{"bola": {RLSOnly}}
}

// Variants returns the variants issue can be switched to: secure,
// vulnerable, naive, and any extra ones it declares.
func Variants(issue string) []Variant {
	return append([]Variant{Secure, Vulnerable, Naive}, extraVariants()[issue]...)
}

// Board is the switchboard: the current variant of each issue.
type Board struct {
	mu    sync.RWMutex
	state map[string]Variant
}

// NewBoard parses BULWARK_VULNS: a comma list of issue[:variant] entries,
// where the variant defaults to vulnerable, and "all" (or "all:naive")
// names every issue. Empty means everything secure.
func NewBoard(spec string) (*Board, error) {
	b := &Board{state: map[string]Variant{}}
	for _, issue := range Issues() {
		b.state[issue] = Secure
	}
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		issue, v, _ := strings.Cut(item, ":")
		variant := Vulnerable
		if v != "" {
			variant = Variant(v)
		}
		if err := b.set(issue, variant); err != nil {
			return nil, fmt.Errorf("BULWARK_VULNS: %w", err)
		}
	}
	return b, nil
}

func (b *Board) set(issue string, v Variant) error {
	if issue == "all" {
		// Only the three variants every issue has switch them all.
		if !slices.Contains(Variants(""), v) {
			return fmt.Errorf("%q is not a variant every issue has (secure, vulnerable, naive)", v)
		}
		for _, i := range Issues() {
			b.state[i] = v
		}
		return nil
	}
	if !slices.Contains(Issues(), issue) {
		return fmt.Errorf("%q is not an issue (%s, or all)", issue, strings.Join(Issues(), ", "))
	}
	if variants := Variants(issue); !slices.Contains(variants, v) {
		names := make([]string, len(variants))
		for i, x := range variants {
			names[i] = string(x)
		}
		return fmt.Errorf("%q is not a variant of %s (%s)", v, issue, strings.Join(names, ", "))
	}
	b.state[issue] = v
	return nil
}

// Set switches one issue (or "all"), live.
func (b *Board) Set(issue string, v Variant) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.set(issue, v)
}

// Get returns the current variant of issue.
func (b *Board) Get(issue string) Variant {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.state[issue]
}

// Snapshot returns a copy of every switch.
func (b *Board) Snapshot() map[string]Variant {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make(map[string]Variant, len(b.state))
	for k, v := range b.state {
		out[k] = v
	}
	return out
}

// Banner is the loud notice printed at start.
func (b *Board) Banner() string {
	snap := b.Snapshot()
	var unsafe []string
	for issue, v := range snap {
		if v != Secure {
			unsafe = append(unsafe, issue+"="+string(v))
		}
	}
	sort.Strings(unsafe)
	line := strings.Repeat("!", 78)
	state := "every issue is secure right now, but any can be switched live"
	if len(unsafe) > 0 {
		state = "VULNERABLE NOW: " + strings.Join(unsafe, ", ")
	}
	return fmt.Sprintf("%s\n!! BULWARK WORKSHOP BUILD: DELIBERATELY VULNERABLE CODE. NEVER EXPOSE IT.\n!! %s\n!! Console: http://<addr>/workshop/ (from this machine only)\n!! Switch live: curl -X PUT http://<addr>/workshop/switches -d '{\"bola\":\"vulnerable\"}'\n%s\n", line, state, line)
}
