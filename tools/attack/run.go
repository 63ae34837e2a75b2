package attack

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// VerdictError is the verdict of an attack whose Run returned an error. It
// is not one of the attacks' verdicts on purpose: an attack that could not
// run proved nothing, so it must never be counted as BLOCKED.
const VerdictError = "ERROR"

// BatteryTimeout is the least time the OpenAPI battery gets: it sends
// about a thousand requests and waits out the sign-in routes' limit of ten
// a minute between its cases there, about two minutes against a fresh
// server, more after other attacks spent that limit.
const BatteryTimeout = 6 * time.Minute

// Outcome is one attack's result in a run of several: the runner's table
// line, the workshop console's verdict.
type Outcome struct {
	Attack   Attack
	Verdict  string // Blocked, Exploited, Skipped, or VerdictError
	Evidence string // the attack's evidence, or the error
	Duration time.Duration
	Cases    []Tally // a battery's cases per operation
}

// RunAll runs the attacks one after another, never concurrently: they
// share one server's data and its CPU, and the timing attacks would measure
// each other. With sources, each attack speaks from its own source address
// as customers of its own (ForAttack), so none waits on a limit another
// spent; without, they share target's. It stops early when ctx is
// cancelled, and returns the outcomes of the attacks that ran. before and
// after, when not nil, are told of each attack as it starts and ends.
func RunAll(ctx context.Context, target *Target, sources *Sources, attacks []Attack, timeout time.Duration,
	before func(i int, a Attack), after func(i int, o Outcome),
) []Outcome {
	outcomes := make([]Outcome, 0, len(attacks))
	for i, a := range attacks {
		if ctx.Err() != nil {
			break
		}
		if before != nil {
			before(i, a)
		}
		limit := timeout
		if a.Issue == BatteryIssue {
			limit = max(timeout, BatteryTimeout)
		}
		t := target
		if sources != nil {
			t = target.ForAttack(a, sources.Next())
		}
		o := RunOne(ctx, t, a, limit)
		if sources != nil {
			t.HTTP.CloseIdleConnections()
		}
		if after != nil {
			after(i, o)
		}
		outcomes = append(outcomes, o)
	}
	return outcomes
}

// RunOne runs one attack within timeout. A panic in the attack (it parses
// whatever the server sends back) is this attack's error, so the rest of a
// run and its report survive it.
func RunOne(ctx context.Context, t *Target, a Attack, timeout time.Duration) (o Outcome) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	o.Attack = a
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			o.Verdict, o.Evidence = VerdictError, fmt.Sprintf("attack panicked: %v", p)
		}
		o.Duration = time.Since(start)
	}()
	res, err := a.Run(ctx, t)
	// A battery that could not finish still says which cases ran, and how.
	o.Cases = res.Cases
	if err != nil {
		o.Verdict, o.Evidence = VerdictError, explain(err)
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			o.Evidence += fmt.Sprintf(" -- gave up after %s (-timeout)", timeout)
		}
		return o
	}
	o.Verdict, o.Evidence = string(res.Verdict), res.Evidence
	return o
}

// explain adds the likely cause to an attack's error. The common one in a
// workshop: an earlier attack (in this run or a previous one) spent the
// server's login limits, so this attack's own login got 429 and it could not
// even start. That says nothing about the defence under test. An isolated
// run (ForAttack) avoids it; a paced one against a remote server, or
// attacks run by hand one after another from one address, can meet it:
// the hint points to smaller runs against a fresh server.
func explain(err error) string {
	msg := err.Error()
	if !rateLimited(msg) {
		return msg
	}
	return msg + " -- rate limited (429) by an earlier attack of this run or a previous one, so this attack could not start: wait a minute or restart the demo server (make demo), then run one issue or attack at a time (-issue NAME, -attack ID)"
}

// rateLimited reports whether an error's text shows a 429 answer. The login
// helpers put the exchange in their errors as "POST /path ... → 429 body";
// matching the arrow too keeps an id or a body that merely contains the
// digits 429 from matching.
func rateLimited(msg string) bool {
	return strings.Contains(msg, "→ 429")
}
