package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// round is what one run of the load generator measured.
type round struct {
	Requests   uint64
	Throughput float64 // successful responses per second
	P50, P99   time.Duration
	Codes      map[string]int
	Errors     []string
}

// ok reports whether every response had one of the wanted status codes.
func (r round) ok(want ...int) bool {
	n := 0
	for _, w := range want {
		n += r.Codes[fmt.Sprint(w)]
	}
	return uint64(n) == r.Requests //nolint:gosec // counts are never negative.
}

func (r round) String() string {
	codes := make([]string, 0, len(r.Codes))
	for c, n := range r.Codes {
		codes = append(codes, fmt.Sprintf("%s×%d", c, n))
	}
	sort.Strings(codes)
	s := fmt.Sprintf("%d requests, %.0f ok/s, p50 %s, p99 %s, codes %s", r.Requests, r.Throughput,
		r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), strings.Join(codes, " "))
	if len(r.Errors) > 0 {
		s += ", errors: " + strings.Join(r.Errors[:min(3, len(r.Errors))], "; ")
	}
	return s
}

// closedLoop keeps exactly workers requests in flight for d: the server's
// throughput at that concurrency, the same way pgbench -c measures a
// database's. rate 0 tells vegeta to send as fast as the workers allow.
func closedLoop(ctx context.Context, tr vegeta.Targeter, workers int, d time.Duration) round {
	a := newAttacker(workers, uint64(workers)) //nolint:gosec // workers is a small positive flag value.
	return measure(ctx, a, tr, vegeta.Rate{Freq: 0}, d)
}

// openLoop sends requests at a fixed rate whatever the server does, so a
// slow response delays no later request and queueing shows in the
// latencies instead of hiding (no coordinated omission).
func openLoop(ctx context.Context, tr vegeta.Targeter, rate float64, d time.Duration) round {
	a := newAttacker(16, vegeta.DefaultMaxWorkers)
	return measure(ctx, a, tr, vegeta.Rate{Freq: max(1, int(rate)), Per: time.Second}, d)
}

func newAttacker(workers int, maxWorkers uint64) *vegeta.Attacker {
	return vegeta.NewAttacker(
		vegeta.Workers(uint64(workers)), //nolint:gosec // small positive flag value.
		vegeta.MaxWorkers(maxWorkers),
		vegeta.Connections(max(workers, 64)),
		vegeta.KeepAlive(true),
		vegeta.Timeout(30*time.Second),
		// Bodies are read to the end and dropped: the load generator must
		// not spend the machine's memory or CPU keeping them.
		vegeta.MaxBody(0),
	)
}

func measure(ctx context.Context, a *vegeta.Attacker, tr vegeta.Targeter, pacer vegeta.Pacer, d time.Duration) round {
	stop := context.AfterFunc(ctx, func() { a.Stop() })
	defer stop()
	var m vegeta.Metrics
	for res := range a.Attack(tr, pacer, d, "") {
		m.Add(res)
	}
	m.Close()
	r := round{Requests: m.Requests, P50: m.Latencies.P50, P99: m.Latencies.P99, Codes: m.StatusCodes, Errors: m.Errors}
	if m.Duration > 0 {
		r.Throughput = float64(m.Requests) * m.Success / m.Duration.Seconds()
	}
	return r
}

// targets cycles through precomputed requests; pick chooses one per call.
func targeter(pick func() (method, url string, header http.Header, body []byte)) vegeta.Targeter {
	return func(t *vegeta.Target) error {
		t.Method, t.URL, t.Header, t.Body = pick()
		return nil
	}
}

// median of the values (the mean of the middle two for an even count).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
