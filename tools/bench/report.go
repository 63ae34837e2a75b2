package main

import (
	"fmt"
	"runtime"
	"strings"
	"time"
)

// row is one line of the table: a ratio, its target, and the raw figures
// it was computed from.
type row struct {
	id      string
	what    string
	value   float64
	target  float64
	atLeast bool // the target is a floor; otherwise a ceiling
	// info marks a figure reported without a target: it is never missed.
	info   bool
	detail string
}

func (r row) met() bool {
	if r.info {
		return true
	}
	if r.atLeast {
		return r.value >= r.target
	}
	return r.value <= r.target
}

func (b *bench) add(r row) { b.rows = append(b.rows, r) }

func (b *bench) missed() bool {
	for _, r := range b.rows {
		if !r.met() {
			return true
		}
	}
	return false
}

func (b *bench) printTable(took time.Duration) {
	mode := "full"
	if b.opt.smoke {
		mode = "smoke (small dataset, short rounds: figures are indicative only)"
	}
	var s strings.Builder
	fmt.Fprintf(&s, "\nBulwark load benchmark, %s run: %d orders over %d users, %d CPUs, %d rounds of %s, took %s\n\n",
		mode, b.d.TotalOrders(), b.d.Users, runtime.NumCPU(), b.opt.rounds, b.opt.round, took.Round(time.Second))
	fmt.Fprintf(&s, "| # | measure | value | target | |\n|---|---|---:|---:|---|\n")
	for _, r := range b.rows {
		op := "≤"
		if r.atLeast {
			op = "≥"
		}
		verdict := "met"
		if !r.met() {
			verdict = "**MISSED**"
		}
		if r.info {
			fmt.Fprintf(&s, "| %s | %s | %.2f | — | reported |\n", r.id, r.what, r.value)
			continue
		}
		fmt.Fprintf(&s, "| %s | %s | %.2f | %s %.2f | %s |\n", r.id, r.what, r.value, op, r.target, verdict)
	}
	s.WriteString("\n")
	if b.discarded > 0 {
		fmt.Fprintf(&s, "%d round(s) were discarded and re-run because the server shed load during a stall of the machine (see the log above).\n", b.discarded)
	}
	if b.overloaded > 0 {
		fmt.Fprintf(&s, "%d round(s) were shed three times in a row and kept: the machine was too busy for those figures; re-run when it is quiet.\n", b.overloaded)
	}
	for _, r := range b.rows {
		fmt.Fprintf(&s, "%s. %s: %s\n", r.id, r.what, r.detail)
	}
	_, _ = fmt.Fprint(b.out, s.String())
}
