package tests

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bulwark-dev/bulwark/internal/app"
	"github.com/bulwark-dev/bulwark/internal/config"
	"github.com/bulwark-dev/bulwark/tools/attack"
)

// family is one attack family of the catalogue with what it must raise:
// the kinds of security events (each in the log and in
// bulwark_security_events_total), and further series that must move.
type family struct {
	issue string
	extra []attack.Attack // attacks of this family the catalogue lacks
	kinds []string
	moves []string // series prefixes that must grow
	start func(t *testing.T) *server
}

// Every attack family of the catalogue that a security event answers is
// run against a fresh server per attack; together the family's attacks
// must raise each of its kinds, in the log and in the counters, and no
// event, log line or metric may carry a token, password, secret or raw id.
func TestAttackFamiliesRaiseSecurityEvents(t *testing.T) {
	plain := func(t *testing.T) *server { return startServer(t, nil) }
	families := []family{
		{issue: "auth", kinds: []string{"token_rejected", "signin_failed", "refresh_token_reuse"}, start: plain},
		{issue: "bola", extra: []attack.Attack{enumerationBurst()}, kinds: []string{"enumeration", "rate_limited"},
			moves: []string{`bulwark_ratelimit_decisions_total{decision="refused",policy="misses"}`}, start: plain},
		{issue: "bfla", kinds: []string{"staff_forbidden", "token_rejected"}, start: plain},
		{issue: "ratelimit", kinds: []string{"rate_limited", "lockout", "signin_failed"},
			moves: []string{`bulwark_ratelimit_decisions_total{decision="refused"`}, start: plain},
		{issue: "files", kinds: []string{"signature_invalid"}, start: plain},
		{issue: "ssrf", kinds: []string{"outbound_refused"}, start: func(t *testing.T) *server {
			lab := startLab(t)
			srv := startServer(t, ssrfEnv(t, lab, nil))
			srv.Target.SSRF = lab
			return srv
		}},
		{issue: "webhook", kinds: []string{"signature_invalid"}, start: func(t *testing.T) *server {
			return startPayStage(t, nil).srv
		}},
	}
	for _, f := range families {
		t.Run(f.issue, func(t *testing.T) {
			raised := map[string]bool{}
			moved := map[string]bool{}
			for _, a := range append(attack.ByIssue(f.issue), f.extra...) {
				t.Run(a.ID, func(t *testing.T) {
					srv := f.start(t)
					before := scrape(t, srv)
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
					defer cancel()
					res, err := a.Run(ctx, srv.Target)
					if err != nil {
						t.Fatalf("attack could not run: %v", err)
					}
					if res.Verdict != attack.Blocked {
						t.Errorf("%s: %s", res.Verdict, res.Evidence)
					}
					after := scrape(t, srv)
					counted := after.securityCounts()
					for kind, n := range before.securityCounts() {
						counted[kind] -= n
					}
					for _, ev := range securityEvents(srv) {
						checkEventFields(t, ev)
						// An event counts as raised when the log and the
						// counter both saw it.
						if counted[ev.Kind] > 0 {
							raised[ev.Kind] = true
						}
					}
					for _, prefix := range f.moves {
						if after.sum(prefix) > before.sum(prefix) {
							moved[prefix] = true
						}
					}
					checkNoSecrets(t, srv)
					checkLabels(t, after)
				})
			}
			for _, kind := range f.kinds {
				if !raised[kind] {
					t.Errorf("the %s attacks raised no %s event (log and counter)", f.issue, kind)
				}
			}
			for _, prefix := range f.moves {
				if !moved[prefix] {
					t.Errorf("the %s attacks did not move %s", f.issue, prefix)
				}
			}
		})
	}
}

// enumerationBurst is BOLA probing at volume: bob asks for order ids
// until the misses limit answers 429 (docs/01-bola.md).
func enumerationBurst() attack.Attack {
	return attack.Attack{
		ID: "bola/enumeration-burst", Issue: "bola",
		Run: func(ctx context.Context, t *attack.Target) (attack.Result, error) {
			tok, err := t.Login(ctx, t.Bob)
			if err != nil {
				return attack.Result{}, err
			}
			for i := range 40 {
				status, _, err := get(ctx, t.HTTP, t.BaseURL+"/api/v1/orders/"+uuid.NewString(), tok)
				if err != nil {
					return attack.Result{}, err
				}
				if status == http.StatusTooManyRequests {
					return attack.Result{Verdict: attack.Blocked, Evidence: fmt.Sprintf("429 after %d misses", i)}, nil
				}
			}
			return attack.Result{Verdict: attack.Exploited, Evidence: "40 misses and no 429"}, nil
		},
	}
}

func get(ctx context.Context, client *http.Client, url, token string) (int, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header, nil
}

var (
	uuidPattern  = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)
	jwtPattern   = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)
	tokenPattern = regexp.MustCompile(`rt_[A-Za-z0-9_-]{40,}`)
)

// checkEventFields holds an event to its contract: a known kind and a
// reason, the request's id and client address, a route template and never
// a path with an id in it.
func checkEventFields(t *testing.T, ev secEvent) {
	t.Helper()
	if ev.Kind == "" || ev.Reason == "" || ev.RequestID == "" || ev.ClientIP == "" || ev.Method == "" || ev.Route == "" || ev.Time == "" {
		t.Errorf("security event with a missing field: %+v", ev)
	}
	if uuidPattern.MatchString(ev.Route) || uuidPattern.MatchString(ev.Reason) {
		t.Errorf("security event carries an id outside user_id: %+v", ev)
	}
	if ev.UserID != "" && uuid.Validate(ev.UserID) != nil {
		t.Errorf("security event user_id is not a user id: %+v", ev)
	}
}

// checkNoSecrets greps everything the server logged, and its metrics, for
// the secrets of the run: the demo passwords, the token and link signing
// keys, the webhook secret, and anything shaped like an access or refresh
// token.
func checkNoSecrets(t *testing.T, srv *server) {
	t.Helper()
	tgt := srv.Target
	secrets := []string{tgt.Alice.Password, tgt.Bob.Password, tgt.Admin.Password,
		base64.RawURLEncoding.EncodeToString(tgt.SigningKey), base64.StdEncoding.EncodeToString(tgt.SigningKey)}
	if tgt.Webhook != nil {
		secrets = append(secrets, base64.RawURLEncoding.EncodeToString(tgt.Webhook.Secret))
	}
	logs := srv.Logs()
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("the log contains a secret of the run (%.6s…)", s)
		}
	}
	for _, p := range []*regexp.Regexp{jwtPattern, tokenPattern} {
		if m := p.FindString(logs); m != "" {
			t.Errorf("the log contains a token: %.12s…", m)
		}
	}
}

// checkLabels holds the metrics to their rule: no label value is an id or
// a raw path, and every route label is a template of the route table.
func checkLabels(t *testing.T, s series) {
	t.Helper()
	routes := routeTemplates(t)
	route := regexp.MustCompile(`route="([^"]*)"`)
	for key := range s {
		if uuidPattern.MatchString(key) || jwtPattern.MatchString(key) {
			t.Errorf("a metric label holds an id or a token: %s", key)
		}
		if m := route.FindStringSubmatch(key); m != nil && !routes[m[1]] {
			t.Errorf("a metric's route label is no route template: %s", key)
		}
	}
}

// TestNormalUseRaisesNoSecurityEvents is the control: a customer's and an
// admin's ordinary day, a few stale links included, moves no security
// counter, logs no security event and is never refused.
func TestNormalUseRaisesNoSecurityEvents(t *testing.T) {
	srv := startServer(t, nil)
	before := scrape(t, srv)
	alice := login(t, srv, srv.Target.Alice.Email)
	admin := login(t, srv, srv.Target.Admin.Email)

	for _, step := range []struct {
		c      client
		method string
		path   string
		body   string
		want   int
	}{
		{alice, http.MethodGet, "/api/v1/users/me", "", http.StatusOK},
		{alice, http.MethodPatch, "/api/v1/users/me", `{"name":"Alice Example"}`, http.StatusOK},
		{alice, http.MethodGet, "/api/v1/products", "", http.StatusOK},
		{alice, http.MethodGet, "/api/v1/orders", "", http.StatusOK},
		{alice, http.MethodPost, "/api/v1/orders", orderBody, http.StatusCreated},
		{alice, http.MethodGet, "/api/v1/orders/" + aliceOrder, "", http.StatusOK},
		{alice, http.MethodGet, "/api/v1/orders/" + aliceOrder + "/files", "", http.StatusOK},
		// A few stale links: orders that no longer exist.
		{alice, http.MethodGet, "/api/v1/orders/" + uuid.NewString(), "", http.StatusNotFound},
		{alice, http.MethodGet, "/api/v1/orders/" + uuid.NewString(), "", http.StatusNotFound},
		{alice, http.MethodGet, "/api/v1/files/" + uuid.NewString(), "", http.StatusNotFound},
		{admin, http.MethodGet, "/api/v1/admin/orders", "", http.StatusOK},
		{admin, http.MethodGet, "/api/v1/users/me", "", http.StatusOK},
	} {
		if got, body := step.c.do(step.method, step.path, step.body); got != step.want {
			t.Fatalf("%s %s: %d %v, want %d", step.method, step.path, got, body, step.want)
		}
	}
	// A download through a signed link.
	files := fileIDs(t, srv, alice.token, aliceOrder)
	if len(files) == 0 {
		t.Fatal("alice's seeded order has no file")
	}
	_, link := alice.do(http.MethodGet, "/api/v1/files/"+files[0]+"/download-url", "")
	url, _ := link["url"].(string)
	if !strings.HasPrefix(url, "http") {
		url = srv.URL + url
	}
	if status, _, err := get(context.Background(), http.DefaultClient, url, ""); err != nil || status != http.StatusOK {
		t.Fatalf("download through the signed link: %d %v", status, err)
	}
	// A session refreshed, then closed.
	anon := client{t: t, base: srv.URL}
	_, session := anon.do(http.MethodPost, "/api/v1/auth/login", fmt.Sprintf(`{"email":%q,"password":%q}`, srv.Target.Bob.Email, srv.Target.Bob.Password))
	refresh, _ := session["refresh_token"].(string)
	status, rotated := anon.do(http.MethodPost, "/api/v1/auth/refresh", fmt.Sprintf(`{"refresh_token":%q}`, refresh))
	if status != http.StatusOK {
		t.Fatalf("refresh: %d", status)
	}
	if status, _ := anon.do(http.MethodPost, "/api/v1/auth/logout", fmt.Sprintf(`{"refresh_token":%q}`, rotated["refresh_token"])); status != http.StatusNoContent {
		t.Fatalf("logout: %d", status)
	}

	after := scrape(t, srv)
	for kind, n := range after.securityCounts() {
		if n != before.securityCounts()[kind] {
			t.Errorf("normal use moved the %s counter by %v", kind, n-before.securityCounts()[kind])
		}
	}
	if refused := after.sum(`bulwark_ratelimit_decisions_total{decision="refused"`); refused > 0 {
		t.Errorf("normal use was refused by a rate limit %v times", refused)
	}
	if evs := securityEvents(srv); len(evs) > 0 {
		t.Errorf("normal use logged security events: %+v", evs)
	}
	if after.sum(`bulwark_http_requests_total{`) <= before.sum(`bulwark_http_requests_total{`) {
		t.Error("control failed: the requests counter did not move")
	}
	checkNoSecrets(t, srv)
	checkLabels(t, after)
}

// routeTemplates are the route label values the metrics may carry: the
// table's paths, its fallbacks', and "unmatched".
func routeTemplates(t *testing.T) map[string]bool {
	t.Helper()
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	rows, err := app.Routes(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{"unmatched": true}
	for _, r := range rows {
		out[r.Path] = true
	}
	return out
}

// A refused start is a security event too: the log says so in the stream
// an operator watches, without the refused value.
func TestConfigRefusalIsASecurityEvent(t *testing.T) {
	for _, tt := range []struct {
		name   string
		env    map[string]string
		reason string
	}{
		{"metrics on the API's port", map[string]string{"HTTP_ADDR": "127.0.0.1:8080", "METRICS_ADDR": "127.0.0.1:8080"}, "invalid_setting"},
		{"a development key in production", map[string]string{"APP_ENV": "production", "JWT_SIGNING_KEYS": config.DevSigningKey}, "invalid_setting"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := app.Run(context.Background(), []string{"serve"}, func(k string) string { return tt.env[k] }, &stdout, &stderr)
			if err == nil {
				t.Fatal("the configuration was accepted")
			}
			var ev secEvent
			for line := range strings.SplitSeq(stdout.String(), "\n") {
				if json.Unmarshal([]byte(line), &ev) == nil && ev.Event == "security" {
					break
				}
			}
			if ev.Kind != "config_refused" || ev.Reason != tt.reason {
				t.Errorf("no config_refused/%s event in %q", tt.reason, stdout.String())
			}
			_, devSecret, _ := strings.Cut(config.DevSigningKey, ":")
			if strings.Contains(stdout.String(), devSecret) {
				t.Error("the event line carries the refused key")
			}
		})
	}
}
