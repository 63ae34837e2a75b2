// Package attack is the attack catalogue: every attack the project proves
// its defences against, written once. Each attack speaks only HTTP to a base
// URL with the seeded demo accounts and returns a verdict with evidence. The
// black-box tests in tests/ assert the verdicts against a freshly booted
// server; tools/cmd/attack (the workshop runner) prints the same verdicts.
package attack

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Verdict is the outcome of one attack.
type Verdict string

// Verdicts. Skipped means the attack needs something the runner did not
// provide (for example the signing key for "valid but wrong" tokens).
const (
	Blocked   Verdict = "BLOCKED"
	Exploited Verdict = "EXPLOITED"
	Skipped   Verdict = "SKIPPED"
)

// Result is a verdict with the evidence for it: the telling request and the
// telling part of the response.
type Result struct {
	Verdict  Verdict
	Evidence string
	// Cases break the verdict down per operation when the attack is a
	// battery of many cases (battery/openapi); nil for the others.
	Cases []Tally
}

// Attack is one catalogue entry.
type Attack struct {
	ID    string // stable, e.g. "auth/jwt-alg-none"
	Issue string // docs page / issue slug, e.g. "auth", "mass-assignment"
	OWASP string // OWASP API Security Top 10 2023 id
	CWE   string
	Story string // one line: what the attacker tries
	// Seeded marks an attack that needs the demo accounts' seeded orders
	// and files, so an isolated run (ForAttack) lends it alice and bob
	// themselves; it must leave their data as it found it. Every other
	// attack gets customers of its own there.
	Seeded bool
	Run    func(ctx context.Context, t *Target) (Result, error)
}

// Account is a login: a demo account, or one an isolated run registers
// for a single attack (FreshAccount).
type Account struct {
	Email    string
	Password string
	Name     string // the name a fresh account registers with
	Register bool   // not seeded: registered on first use (Target.ensure)
	Staff    bool   // a fresh admin, made by Target.NewStaff (registration makes customers only)
	// TOTPSecret is the account's second factor, when it has one: the
	// login helper sends a code from it, as an authenticator app would.
	TOTPSecret string
}

// Target is the server under attack.
type Target struct {
	BaseURL string
	HTTP    *http.Client
	Alice   Account
	Bob     Account
	Admin   Account
	// Ops is staff with a second factor: the account that can refund and
	// create coupons (docs/12-business-flows.md).
	Ops Account
	// SigningKeyID and SigningKey are the server's token key, when the
	// runner knows it (the tests, or a workshop using the published
	// development key). Attacks that forge "correctly signed but wrong"
	// tokens need it, modelling a key shared with another service.
	SigningKeyID string
	SigningKey   []byte
	Canary       string // text planted outside the storage root; it must never appear in a response
	// SSRF is the stage of the SSRF attacks (ssrf_lab.go); nil means each
	// attack starts its own. Webhook is the secret the payment provider
	// signs webhooks with, when the runner knows it (webhook.go).
	SSRF    *SSRFLab
	Webhook *WebhookKey
	// NewStaff creates an admin account, when the runner can (the
	// workshop console runs inside the server, and the API registers
	// customers only). With it, each isolated attack (ForAttack) gets an
	// admin of its own too, so the per-user limit of the one demo admin is
	// not shared between attacks: sqli/admin-sort alone sends more than
	// its burst. Nil means the demo admin.
	NewStaff func(ctx context.Context, a Account) error
	// Pace makes requests wait out a 429 and retry, for runs of many
	// attacks against one server (tools/cmd/attack), where the limits would
	// otherwise refuse the attacks' own set-up requests. The probes of the
	// rate-limit attacks are never paced: their 429s are the verdict.
	Pace bool

	mu         sync.Mutex
	sessions   map[string]tokens // login helper's cache, by email
	registered map[string]bool   // fresh accounts already registered, by email
	isolated   bool              // ForAttack: this attack's own address and accounts
	own        Account           // ForAttack: a Seeded attack's customer for writes (ownCustomer)
	held       *holdings         // the fresh customers' orders and files, once made (holdings)
	staff      *staffSession     // StaffToken's cache, shared with the attacks' copies (ForAttack)
}

// DemoTarget returns a target for a server seeded by `api seed`.
func DemoTarget(baseURL string) *Target {
	return &Target{
		BaseURL: strings.TrimRight(baseURL, "/"),
		HTTP:    &http.Client{Timeout: 15 * time.Second},
		Alice:   Account{Email: "alice@example.com", Password: "alice-demo-password"},
		Bob:     Account{Email: "bob@example.com", Password: "bob-demo-password"},
		Admin:   Account{Email: "admin@example.com", Password: "admin-demo-password"},
		// The published development TOTP secret (internal/seed).
		Ops:    Account{Email: "ops@example.com", Password: "ops-demo-password", TOTPSecret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"}, //nolint:gosec // the published development secret.
		Canary: "root:x:0:",
	}
}

// Catalogue returns every attack, in a stable order.
func Catalogue() []Attack {
	var all []Attack
	all = append(all, authAttacks()...)
	all = append(all, bolaAttacks()...)
	all = append(all, bflaAttacks()...)
	all = append(all, validationAttacks()...)
	all = append(all, rateLimitAttacks()...)
	all = append(all, massAssignmentAttacks()...)
	all = append(all, exposureAttacks()...)
	all = append(all, errorAttacks()...)
	all = append(all, corsAttacks()...)
	all = append(all, misconfigurationAttacks()...)
	all = append(all, sqliAttacks()...)
	all = append(all, sqliExploitAttacks()...)
	all = append(all, fileAttacks()...)
	all = append(all, fileBasicAttacks()...)
	all = append(all, ssrfAttacks()...)
	all = append(all, webhookAttacks()...)
	all = append(all, businessFlowAttacks()...)
	return all
}

// ByIssue returns the attacks of one issue.
func ByIssue(issue string) []Attack {
	var out []Attack
	for _, a := range Catalogue() {
		if a.Issue == issue {
			out = append(out, a)
		}
	}
	return out
}

// Issues lists the issue slugs in the catalogue.
func Issues() []string {
	seen := map[string]bool{}
	for _, a := range Catalogue() {
		seen[a.Issue] = true
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// exchange is one request and its response, kept for evidence.
type exchange struct {
	method  string
	path    string
	reqBody string
	status  int
	header  http.Header
	body    []byte
	elapsed time.Duration
}

// request describes what to send.
type request struct {
	method  string
	path    string
	body    string
	ctype   string // "" means application/json when body is set
	token   string
	headers map[string]string
	probe   bool // a rate-limit probe: never paced (see Target.Pace)
}

func (t *Target) send(ctx context.Context, r request) (*exchange, error) {
	return t.paced(ctx, r.method+" "+r.path, r.probe, func() (*exchange, error) { return t.sendOnce(ctx, r) })
}

// paced sends a request by calling once; in a paced run (Target.Pace) a 429
// is waited out, as its Retry-After says, and the request tried again, at
// most twice. A rate-limit probe is never paced: its 429 is the verdict.
func (t *Target) paced(ctx context.Context, what string, probe bool, once func() (*exchange, error)) (*exchange, error) {
	for retry := 0; ; retry++ {
		x, err := once()
		if err != nil || x.status != http.StatusTooManyRequests || !t.Pace || probe || retry == 2 {
			return x, err
		}
		wait, _ := strconv.Atoi(x.header.Get("Retry-After"))
		select {
		case <-time.After(time.Duration(min(max(wait, 1), 65)) * time.Second):
		case <-ctx.Done():
			return nil, fmt.Errorf("%s: waiting out a 429: %w", what, ctx.Err())
		}
	}
}

func (t *Target) sendOnce(ctx context.Context, r request) (*exchange, error) {
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, t.BaseURL+r.path, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if r.body != "" {
		ctype := r.ctype
		if ctype == "" {
			ctype = "application/json"
		}
		req.Header.Set("Content-Type", ctype)
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := t.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", r.method, r.path, err)
	}
	return &exchange{
		method: r.method, path: r.path, reqBody: r.body,
		status: resp.StatusCode, header: resp.Header, body: b, elapsed: time.Since(start),
	}, nil
}

// String is the evidence form of an exchange: request line, status and a
// short body.
func (x *exchange) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", x.method, x.path)
	if x.reqBody != "" {
		fmt.Fprintf(&b, " %s", clip(x.reqBody, 120))
	}
	fmt.Fprintf(&b, " → %d %s", x.status, clip(string(bytes.TrimSpace(x.body)), 200))
	return b.String()
}

func clip(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func blocked(format string, args ...any) (Result, error) {
	return Result{Verdict: Blocked, Evidence: fmt.Sprintf(format, args...)}, nil
}

func exploited(format string, args ...any) (Result, error) {
	return Result{Verdict: Exploited, Evidence: fmt.Sprintf(format, args...)}, nil
}

func skipped(format string, args ...any) (Result, error) {
	return Result{Verdict: Skipped, Evidence: fmt.Sprintf(format, args...)}, nil
}
