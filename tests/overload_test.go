package tests

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// Overload, against the real binary: far more concurrent clients than the
// server admits (MAX_IN_FLIGHT_REQUESTS), each as its own user from its own
// address so no per-client limit hides the overload. Every client gets an
// answer: a success, or 429/503 with Retry-After; never a 500, never a
// dropped connection. The admitted requests stay fast, and the process's
// memory stays bounded. A single client flooding from one address is cut off
// by its own rate limit (429) first.
func TestOverloadShedsWithRetryAfter(t *testing.T) {
	const (
		maxInFlight    = 8
		requestTimeout = 5 * time.Second
	)
	p := startProcess(t, buildAPI(t), map[string]string{
		"MAX_IN_FLIGHT_REQUESTS": "8",
		"TRUSTED_PROXIES":        "127.0.0.1",
		"REQUEST_TIMEOUT":        requestTimeout.String(),
	})
	const clients = 4 * maxInFlight
	tokens := makeUsers(t, p.AdminURL, p.Key, clients)
	baseRSS, err := p.rssMiB()
	if err != nil {
		t.Fatal(err)
	}
	// Keep-alive connections, as real clients use; a dropped one would
	// show up as a transport error.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}

	// What one request at a time gets through: the sustainable rate, for
	// the log. The users take turns, so no per-user limit caps it.
	sustainable := func() float64 {
		n, began := 0, time.Now()
		for i := 0; time.Since(began) < 500*time.Millisecond; i++ {
			if o := call(t.Context(), client, http.MethodGet, p.URL+"/api/v1/orders?limit=20", tokens[i%clients], spreadIP(i%clients), ""); o.status == http.StatusOK {
				n++
			}
		}
		return float64(n) / time.Since(began).Seconds()
	}()

	// The overload: every client sends as fast as it is answered, reading
	// its orders and now and then placing one.
	stopRSS := sampleRSS(t, p)
	var (
		mu   sync.Mutex
		outs []outcome
		wg   sync.WaitGroup
	)
	began := time.Now()
	for c := range clients {
		wg.Go(func() {
			for n := 0; time.Since(began) < 3*time.Second; n++ {
				var o outcome
				if n%5 == 4 {
					o = call(context.Background(), client, http.MethodPost, p.URL+"/api/v1/orders", tokens[c], spreadIP(c), orderJSON("overload"))
				} else {
					o = call(context.Background(), client, http.MethodGet, p.URL+"/api/v1/orders?limit=20", tokens[c], spreadIP(c), "")
				}
				mu.Lock()
				outs = append(outs, o)
				mu.Unlock()
				if o.status == http.StatusTooManyRequests || o.status == http.StatusServiceUnavailable {
					// A well-behaved client backs off; a short pause keeps
					// the pressure up while leaving the CPU to the server.
					time.Sleep(5 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(began)
	peakRSS := stopRSS()

	var admitted []time.Duration
	shed := 0
	for _, o := range outs {
		switch o.status {
		case http.StatusOK, http.StatusCreated:
			admitted = append(admitted, o.elapsed)
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			if o.status == http.StatusServiceUnavailable {
				shed++
			}
			if problem := checkUnavailable(o); problem != "" {
				t.Errorf("%d under overload: %s: %v", o.status, problem, o)
			}
		default:
			t.Errorf("request under overload: %v", o)
		}
	}
	slices.Sort(admitted)
	if len(admitted) == 0 {
		t.Fatalf("no request was admitted under overload: %v", countBy(outs))
	}
	p99 := admitted[len(admitted)*99/100]
	offered := float64(len(outs)) / elapsed.Seconds()
	t.Logf("sustainable (one request at a time): %.0f req/s; offered under overload: %.0f req/s; outcomes %v; admitted p99 %v; RSS %.0f MiB at rest, peak %.0f MiB",
		sustainable, offered, countBy(outs), p99.Round(time.Millisecond), baseRSS, peakRSS)
	if shed == 0 {
		t.Errorf("%d clients against a limit of %d in flight, and not one request was shed (503): there is no load shedding", clients, maxInFlight)
	}
	// Admitted requests never queue behind more than maxInFlight others,
	// so they stay fast; the p99 bound leaves room for a 2-core machine
	// that also runs the 32 clients (and, in CI, other tests). No admitted
	// request may outlive the request deadline.
	if p99 > 2500*time.Millisecond {
		t.Errorf("admitted requests' p99 is %v under overload; want under 2.5s", p99)
	}
	if slowest := admitted[len(admitted)-1]; slowest > requestTimeout {
		t.Errorf("an admitted request took %v, past the %v request deadline", slowest, requestTimeout)
	}
	if grew := peakRSS - baseRSS; grew > 64 {
		t.Errorf("RSS grew by %.0f MiB under overload (%.0f → %.0f MiB); want at most 64 MiB", grew, baseRSS, peakRSS)
	}

	// One address flooding alone meets its per-IP limit: 429 with
	// Retry-After, still no 5xx other than a shed 503.
	var limited int
	for i := range 300 {
		// Not a probe: the probes answer before the per-IP limit
		// (internal/app/probes.go).
		o := call(context.Background(), client, http.MethodGet, p.URL+"/api/v1/openapi.yaml", "", "", "")
		switch o.status {
		case http.StatusOK:
		case http.StatusTooManyRequests:
			limited++
			if problem := checkUnavailable(o); problem != "" {
				t.Fatalf("429 for a flooding client: %s: %v", problem, o)
			}
		default:
			t.Fatalf("flood request %d: %v", i, o)
		}
		if limited > 5 {
			break
		}
	}
	if limited == 0 {
		t.Error("300 requests from one address in a row and not one 429")
	}
}

// sampleRSS samples the process's resident memory every 20 ms until the
// returned function is called, which returns the largest value seen in MiB.
func sampleRSS(t *testing.T, p *apiProcess) func() float64 {
	t.Helper()
	done := make(chan struct{})
	result := make(chan float64)
	go func() {
		peak := 0.0
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if rss, err := p.rssMiB(); err == nil {
				peak = max(peak, rss)
			}
			select {
			case <-tick.C:
			case <-done:
				result <- peak
				return
			}
		}
	}()
	return func() float64 {
		close(done)
		return <-result
	}
}
