package tests

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-dev/bulwark/internal/app"
	"github.com/bulwark-dev/bulwark/internal/postgres/pgtest"
	"github.com/bulwark-dev/bulwark/internal/web/redislimit/redistest"
	"github.com/bulwark-dev/bulwark/tools/attack"
)

// Several instances of the service behind a load balancer
// (docs/04-rate-limiting.md): with RATE_LIMIT_STORE=redis the limits hold
// for the fleet, not once per instance; while Redis is down, sign-in fails
// closed and the rest keeps working on per-instance limits; once it is
// back, the shared limits resume without a restart. The test client spreads
// its requests round-robin over two real instances (app.Run, in-process) on
// one database, as a load balancer would.

// fleetMaxAttempts bounds every guessing loop here, so that a server
// without the limit fails the test instead of hanging it.
const fleetMaxAttempts = 30

// fleetNode is one API instance of a fleet.
type fleetNode struct {
	URL  string
	logs *logBuffer
}

// startFleet boots two instances of the service with the same settings: one
// fresh database, one JWT signing key, one storage directory, and env on
// top. bootServer seeds the database on each boot; seeding is idempotent.
func startFleet(t *testing.T, env map[string]string) []fleetNode {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	db := pgtest.New(t)
	settings := map[string]string{
		"APP_ENV":              "development",
		"DATABASE_URL":         db.Service,
		"MIGRATE_DATABASE_URL": db.Owner,
		"HTTP_ADDR":            "127.0.0.1:0",
		"JWT_SIGNING_KEYS":     "test:" + base64.RawURLEncoding.EncodeToString(key),
		"CORS_ALLOWED_ORIGINS": attack.LegitimateOrigin,
		"SHUTDOWN_TIMEOUT":     "10s",
		"FILE_STORAGE_DIR":     filepath.Join(t.TempDir(), "srv", "files"),
	}
	maps.Copy(settings, env)
	nodes := make([]fleetNode, 2)
	for i := range nodes {
		base, logs, _ := bootServer(context.Background(), t, settings)
		if !strings.HasPrefix(base, "http://127.0.0.1:") {
			t.Fatalf("instance %d listens on %s, want loopback only", i+1, base)
		}
		nodes[i] = fleetNode{URL: base, logs: logs}
	}
	return nodes
}

// redisFleet starts a Redis and two instances sharing it.
func redisFleet(t *testing.T, env map[string]string) (*redistest.Server, []fleetNode) {
	t.Helper()
	rd := redistest.Start(t)
	settings := map[string]string{"RATE_LIMIT_STORE": "redis", "REDIS_URL": rd.URL()}
	maps.Copy(settings, env)
	return rd, startFleet(t, settings)
}

// fleetResponse is one answer, read in full.
type fleetResponse struct {
	status int
	header http.Header
	body   string
	took   time.Duration
}

func (r fleetResponse) String() string {
	return fmt.Sprintf("%d %s", r.status, strings.TrimSpace(r.body))
}

// fleetClient never waits long: every request here goes to 127.0.0.1.
var fleetClient = &http.Client{Timeout: 10 * time.Second}

func fleetSend(t *testing.T, method, target, body string, header map[string]string) fleetResponse {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, target, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := fleetClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, target, err)
	}
	return fleetResponse{status: resp.StatusCode, header: resp.Header, body: string(data), took: time.Since(start)}
}

// fleetLogin posts one login to node; xff, when set, is sent as
// X-Forwarded-For.
func fleetLogin(t *testing.T, node fleetNode, email, password, xff string) fleetResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	var header map[string]string
	if xff != "" {
		header = map[string]string{"X-Forwarded-For": xff}
	}
	return fleetSend(t, http.MethodPost, node.URL+"/api/v1/auth/login", string(body), header)
}

// guessOutcome is what a guessing run got before its first 429.
type guessOutcome struct {
	failures int   // logins answered 401 before the first 429, all nodes together
	perNode  []int // the same, per node
	limited  bool  // a 429 came within fleetMaxAttempts
	refusal  fleetResponse
	node     int // the node that answered the 429
}

// guessRoundRobin sends wrong-password logins, attempt i to node i mod n,
// until the first 429. next gives the email and X-Forwarded-For ("" for
// none) of attempt i. Anything but 401 or 429 fails the test: a 200 is a
// guessed password, a 5xx a server defect.
func guessRoundRobin(t *testing.T, nodes []fleetNode, next func(i int) (email, xff string)) guessOutcome {
	t.Helper()
	out := guessOutcome{perNode: make([]int, len(nodes))}
	for i := range fleetMaxAttempts {
		n := i % len(nodes)
		email, xff := next(i)
		r := fleetLogin(t, nodes[n], email, fmt.Sprintf("wrong-guess-%03d", i), xff)
		switch r.status {
		case http.StatusUnauthorized:
			out.failures++
			out.perNode[n]++
		case http.StatusTooManyRequests:
			if r.header.Get("Retry-After") == "" {
				t.Errorf("429 without Retry-After from node %d: %s", n, r)
			}
			out.limited, out.refusal, out.node = true, r, n
			return out
		default:
			t.Fatalf("guess %d (%s) on node %d: want 401 or 429, got %s", i+1, email, n, r)
		}
	}
	return out
}

// TestFleetSharesLimits brute-forces one account from one address, the
// guesses alternating between two instances. With Redis the fleet allows
// what one instance allows; with per-instance memory (the control) each
// instance keeps its own count and the fleet allows twice as much, which
// shows the test can tell the two apart.
func TestFleetSharesLimits(t *testing.T) {
	lim := app.DefaultLimits()
	// Login runs, in order: the auth-ip limit (middleware, per client IP),
	// the backoff per account+IP, then the per-account GCRA. From one
	// address on one account the backoff binds first: attempts 1..Free are
	// recorded with no wait, attempt Free+1 is recorded too and starts a
	// wait of Base (1s), and the next attempt within that second is refused
	// with 429. So Free+1 guesses reach the password check (3+1 = 4 with the
	// defaults) — unless the per-account burst (5) is smaller, which it is
	// not. The auth-ip limit (10) is not reached: the whole run is Free+2
	// requests through the fleet, and in the control at most Free+2 through
	// each instance.
	want := min(lim.LoginBackoff.Free+1, lim.LoginPerAccount.Burst)
	if lim.AuthPerIP.Burst < want+1 {
		t.Fatalf("the arithmetic below assumes auth-ip (%d) is not reached by %d requests; revise it", lim.AuthPerIP.Burst, want+1)
	}
	alice := attack.DemoTarget("").Alice.Email
	sameClient := func(int) (string, string) { return alice, "" }

	t.Run("redis", func(t *testing.T) {
		_, nodes := redisFleet(t, nil)
		got := guessRoundRobin(t, nodes, sameClient)
		t.Logf("shared limits: %d guesses answered 401 (per instance %v) before a 429 from instance %d (Retry-After %s, RateLimit-Policy %s)",
			got.failures, got.perNode, got.node+1, got.refusal.header.Get("Retry-After"), got.refusal.header.Get("RateLimit-Policy"))
		if !got.limited {
			t.Fatalf("no 429 within %d guesses spread over two instances", fleetMaxAttempts)
		}
		if got.failures != want {
			t.Errorf("%d guesses reached the password check across the fleet, want %d (LoginBackoff.Free+1): the instances do not share the limit", got.failures, want)
		}
	})

	t.Run("memory-control", func(t *testing.T) {
		nodes := startFleet(t, map[string]string{"RATE_LIMIT_STORE": "memory"})
		got := guessRoundRobin(t, nodes, sameClient)
		t.Logf("per-instance limits: %d guesses answered 401 (per instance %v) before a 429 from instance %d",
			got.failures, got.perNode, got.node+1)
		if !got.limited {
			t.Fatalf("no 429 within %d guesses: not even the per-instance limits held", fleetMaxAttempts)
		}
		// Each instance sees every other guess and allows want of them.
		if got.failures < 2*want {
			t.Errorf("with per-instance memory the fleet allowed %d guesses, want %d (twice one instance): the control does not show the difference the redis case tests for", got.failures, 2*want)
		}
	})
}

// TestFleetPerAccountLimitHoldsWhenIPsRotate brute-forces one account
// behind a trusted proxy (the test client plays it), each guess with a new
// X-Forwarded-For and on the other instance. The per-IP limits and the
// per-address backoff see a new client every time; the per-account limit,
// shared through Redis, must still stop the guesses at its burst for the
// whole fleet.
func TestFleetPerAccountLimitHoldsWhenIPsRotate(t *testing.T) {
	lim := app.DefaultLimits()
	_, nodes := redisFleet(t, map[string]string{"TRUSTED_PROXIES": "127.0.0.1/32"})
	bob := attack.DemoTarget("").Bob.Email
	got := guessRoundRobin(t, nodes, func(i int) (string, string) {
		// TEST-NET-3, a distinct address per guess; never contacted.
		return bob, fmt.Sprintf("203.0.113.%d", i+1)
	})
	t.Logf("%d guesses from rotating addresses answered 401 (per instance %v) before a 429 (RateLimit-Policy %s)",
		got.failures, got.perNode, got.refusal.header.Get("RateLimit-Policy"))
	if !got.limited {
		t.Fatalf("no 429 within %d guesses at one account from rotating addresses", fleetMaxAttempts)
	}
	if got.failures > lim.LoginPerAccount.Burst {
		t.Errorf("%d guesses reached the password check, more than the per-account burst %d: the limit is not fleet-wide", got.failures, lim.LoginPerAccount.Burst)
	}
	if p := got.refusal.header.Get("RateLimit-Policy"); !strings.HasPrefix(p, fmt.Sprintf("%q", lim.LoginPerAccount.Name)) {
		t.Errorf("the 429 came from policy %s, want %q", p, lim.LoginPerAccount.Name)
	}
}

// TestFleetUntrustedForwardedForIgnored: without TRUSTED_PROXIES a client
// cannot choose its address by sending X-Forwarded-For, so credential
// stuffing (one guess per account) from one address is stopped by the
// auth-ip limit, once for the whole fleet.
func TestFleetUntrustedForwardedForIgnored(t *testing.T) {
	lim := app.DefaultLimits()
	_, nodes := redisFleet(t, nil)
	got := guessRoundRobin(t, nodes, func(i int) (string, string) {
		return fmt.Sprintf("stuffed-%d@example.net", i), fmt.Sprintf("203.0.113.%d", i+1)
	})
	t.Logf("%d logins on different accounts with rotating X-Forwarded-For answered 401 (per instance %v) before a 429 (RateLimit-Policy %s)",
		got.failures, got.perNode, got.refusal.header.Get("RateLimit-Policy"))
	if !got.limited {
		t.Fatalf("no 429 within %d logins: X-Forwarded-For from an untrusted peer reset the limit", fleetMaxAttempts)
	}
	if got.failures > lim.AuthPerIP.Burst {
		t.Errorf("%d logins answered before the first 429, more than the auth-ip burst %d: X-Forwarded-For was believed, or the limit is per instance", got.failures, lim.AuthPerIP.Burst)
	}
	if p := got.refusal.header.Get("RateLimit-Policy"); !strings.HasPrefix(p, fmt.Sprintf("%q", lim.AuthPerIP.Name)) {
		t.Errorf("the 429 came from policy %s, want %q", p, lim.AuthPerIP.Name)
	}
}

// TestFleetRedisOutage stops the shared Redis under a running fleet:
// sign-in must fail closed, quickly and without leaking why, while
// authenticated reads go on; once Redis is back the fleet must recover by
// itself, shared limits included.
func TestFleetRedisOutage(t *testing.T) {
	lim := app.DefaultLimits()
	rd, nodes := redisFleet(t, nil)
	demo := attack.DemoTarget("")
	alice, bob := demo.Alice, demo.Bob

	// A session opened before the outage.
	r := fleetLogin(t, nodes[0], alice.Email, alice.Password, "")
	if r.status != http.StatusOK {
		t.Fatalf("login before the outage: %s", r)
	}
	var tokens struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(r.body), &tokens); err != nil || tokens.AccessToken == "" {
		t.Fatalf("login before the outage gave no access token: %s", r)
	}
	bearer := map[string]string{"Authorization": "Bearer " + tokens.AccessToken}

	rd.Stop()
	redisAddr := strings.TrimSuffix(strings.TrimPrefix(rd.URL(), "redis://"), "/0")
	_, redisPort, _ := strings.Cut(redisAddr, ":")

	for n, node := range nodes {
		// Twice: the first login finds Redis down, the second comes while
		// the limiter skips it.
		for range 2 {
			r := fleetLogin(t, node, alice.Email, alice.Password, "")
			t.Logf("outage, instance %d: login %d in %s, Retry-After %q: %s", n+1, r.status, r.took.Round(time.Millisecond), r.header.Get("Retry-After"), r.body)
			if r.status != http.StatusServiceUnavailable {
				t.Errorf("instance %d: login during the outage answered %d, want 503 (fail closed): %s", n+1, r.status, r)
				continue
			}
			if r.took >= time.Second {
				t.Errorf("instance %d: the refusal took %s, want < 1s", n+1, r.took)
			}
			if r.header.Get("Retry-After") == "" {
				t.Errorf("instance %d: 503 without Retry-After", n+1)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
				t.Errorf("instance %d: 503 with Content-Type %q, want application/problem+json", n+1, ct)
			}
			var p struct {
				Status int `json:"status"`
			}
			if err := json.Unmarshal([]byte(r.body), &p); err != nil || p.Status != http.StatusServiceUnavailable {
				t.Errorf("instance %d: 503 body is not a problem with status 503: %s", n+1, r.body)
			}
			lower := strings.ToLower(r.body)
			for _, secret := range []string{"redis", "dial", "refused", "tcp", "127.0.0.1", ":" + redisPort, "policy", lim.AuthPerIP.Name, lim.LoginBackoff.Name} {
				if strings.Contains(lower, strings.ToLower(secret)) {
					t.Errorf("instance %d: 503 body reveals %q: %s", n+1, secret, r.body)
				}
			}
		}
		// Reads fall back to this instance's own limits and keep working.
		for _, path := range []string{"/api/v1/users/me", "/healthz"} {
			r := fleetSend(t, http.MethodGet, node.URL+path, "", bearer)
			if r.status != http.StatusOK {
				t.Errorf("instance %d: GET %s during the outage answered %s, want 200", n+1, path, r)
			}
			if r.took >= time.Second {
				t.Errorf("instance %d: GET %s took %s during the outage, want < 1s", n+1, path, r.took)
			}
		}
		if logs := node.logs.String(); !strings.Contains(logs, "shared rate limiter failed") {
			t.Errorf("instance %d logged no \"shared rate limiter failed\" line:\n%s", n+1, logs)
		}
	}

	rd.Restart()
	restarted := time.Now()
	const recoverWithin = 2 * time.Second
	for n, node := range nodes {
		var last fleetResponse
		for {
			last = fleetLogin(t, node, alice.Email, alice.Password, "")
			if last.status == http.StatusOK || time.Since(restarted) > recoverWithin {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if last.status != http.StatusOK {
			t.Fatalf("instance %d: login still answers %s %s after Redis came back", n+1, last, time.Since(restarted).Round(time.Millisecond))
		}
		t.Logf("instance %d: logins work again %s after Redis came back", n+1, time.Since(restarted).Round(time.Millisecond))
	}

	// Shared again: a fresh brute force (bob, one address, both instances)
	// is stopped where one instance would stop it, LoginBackoff.Free+1
	// guesses (see TestFleetSharesLimits for the arithmetic). Redis came back
	// empty, so auth-ip has used 2 of its 10 (the two logins above).
	want := min(lim.LoginBackoff.Free+1, lim.LoginPerAccount.Burst)
	got := guessRoundRobin(t, nodes, func(int) (string, string) { return bob.Email, "" })
	t.Logf("after recovery: %d guesses answered 401 (per instance %v) before a 429", got.failures, got.perNode)
	if !got.limited || got.failures != want {
		t.Errorf("after recovery %d guesses reached the password check across the fleet (limited: %t), want %d: shared limits did not resume", got.failures, got.limited, want)
	}
	for n, node := range nodes {
		if !strings.Contains(node.logs.String(), "shared rate limiter recovered") {
			t.Errorf("instance %d logged no \"shared rate limiter recovered\" line", n+1)
		}
	}
}
