package attack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// The OpenAPI battery (battery/openapi) attacks every operation of the
// document a server publishes, with cases derived from the document rather
// than written per route, so a route a fork adds is attacked the day it is
// documented. For each operation it runs, as the document allows:
//
//   - contract: who may call it is declared (x-bulwark-policy), every object
//     of its schemas is closed, and an {id} it takes has a creator (links);
//   - success: one valid request, whose answer must match its schema with no
//     forbidden field name (password, secret, token outside sign-in, …);
//   - auth: no token, a malformed, an expired, a wrongly signed and an
//     alg:none token, each a 401, on every route that needs a token; on a
//     route whose permission is the payment provider's signature
//     (SignedWebhook), no signature, a made-up one, one made with another
//     secret, a stale one and one over another body, each a 401 that
//     leaves the order the event names unchanged;
//   - owner: a resource created by alice, asked for by bob, is the same 404
//     as a random missing id, and alice reads it back unchanged;
//   - staff: a staff route refuses both customers with 403;
//   - body: unknown, read-only, case-varied, nested-unknown and wrongly typed
//     fields are each a 400 naming the field, and nothing is written (a
//     SignedWebhook's event is the provider's format, read tolerantly as
//     the document declares: see webhookBodyCase);
//   - param: the injection corpus in every path and query parameter is a
//     4xx, without SQL or stack text, in about the time of a benign value;
//   - inventory: the methods a documented path does not list are refused,
//     and (given the server's route table) every served route is documented.
//
// Every answer of every case is also held to the document: a documented
// status, the schema with every object closed, X-Request-Id in the body of
// an error, and no internal detail in it.

// BatteryID and BatteryIssue name the battery in the runner
// (go run ./tools/cmd/attack -issue battery).
const (
	BatteryID    = "battery/openapi"
	BatteryIssue = "battery"
)

// BatteryOptions configure a battery run.
type BatteryOptions struct {
	// Document is the OpenAPI document to derive the cases from; nil asks
	// the server for its own (GET /api/v1/openapi.yaml).
	Document []byte
	// Served are the routes the server serves, from its route table
	// (internal/app.Routes), when the caller has it: a served route the
	// document lacks is then reported. Without it, undocumented routes are
	// looked for only as undocumented methods on documented paths.
	Served []Endpoint
	// Operations limits the cases to these operationIds; empty means all.
	// Resources the selected operations need are still created through the
	// operations that create them; a required query value that only
	// another operation's answer carries (the signed link of
	// getDownloadURL, for downloadSignedFile) needs that one selected too.
	Operations []string
	// ImportURL is a URL the server under test may fetch (one of its
	// IMPORT_ALLOW_HOSTS in development, or any public https file): the
	// valid body of importFile. Without it importFile's success, auth,
	// owner and body cases are SKIPPED, since no body the battery could
	// make up is one the server would fetch.
	ImportURL string
}

// Endpoint is a method and a path as OpenAPI writes it (/orders/{id}).
type Endpoint struct {
	Method string
	Path   string
}

// Tally is how one operation fared: how many cases were tried and their
// verdicts, with the evidence of every case that was not blocked.
type Tally struct {
	Operation string   `json:"operation"` // operationId, or "inventory"
	Method    string   `json:"method,omitempty"`
	Path      string   `json:"path,omitempty"`
	Policy    string   `json:"policy,omitempty"`
	Tried     int      `json:"tried"`
	Blocked   int      `json:"blocked"`
	Exploited int      `json:"exploited"`
	Skipped   int      `json:"skipped"`
	Unproven  int      `json:"unproven"` // could not run: neither blocked nor exploited
	Findings  []string `json:"findings,omitempty"`
}

// inventoryRow is the tally of the cases about the surface as a whole.
const inventoryRow = "inventory"

// Battery returns the battery as an attack of the catalogue's shape.
func Battery(opts BatteryOptions) Attack {
	return Attack{
		ID: BatteryID, Issue: BatteryIssue, OWASP: "API1,2,3,5,8,9:2023", CWE: "CWE-284",
		Story: "Derive cases for every operation of the server's OpenAPI document: tokens, ownership, staff routes, " +
			"request bodies, injection in every parameter, every answer against its schema, undocumented routes.",
		Run: func(ctx context.Context, t *Target) (Result, error) { return runBattery(ctx, t, opts) },
	}
}

// unproven is a case that could not run (its set-up failed, or the
// document lacks what it needs): it proves nothing either way, and a
// battery with one ends in an error, never in BLOCKED.
const unproven Verdict = "UNPROVEN"

// batteryCase is one request (or a few) and its verdict.
type batteryCase struct {
	row    string // the tally it counts in: an operationId or inventoryRow
	name   string // family/what, e.g. "auth/alg-none"
	scarce bool   // on a route with a tight rate limit: spread over the run
	run    func(context.Context) caseOutcome
}

type caseOutcome struct {
	verdict  Verdict
	evidence string
}

func pass(format string, args ...any) caseOutcome {
	return caseOutcome{Blocked, fmt.Sprintf(format, args...)}
}

func fail(format string, args ...any) caseOutcome {
	return caseOutcome{Exploited, fmt.Sprintf(format, args...)}
}

func skip(format string, args ...any) caseOutcome {
	return caseOutcome{Skipped, fmt.Sprintf(format, args...)}
}

func cannot(format string, args ...any) caseOutcome {
	return caseOutcome{unproven, fmt.Sprintf(format, args...)}
}

// principal is a signed-in demo account.
type principal struct {
	name  string
	token string
	me    me
}

// battery is one run's state.
type battery struct {
	t    *Target
	opts BatteryOptions
	doc  *openapi3.T
	ops  []*operation
	byID map[string]*operation

	alice, bob, admin principal
	// sessions are accounts of the run's own for the operations that end
	// sessions or change how an account signs in (ownAccount): one per
	// session-ending operation so that one's success (logoutAll revokes
	// the families, changePassword bumps the token version) does not leave
	// the other without a session, and one for the second factor's
	// enrolment, confirmation and step-up, so that no demo account is left
	// needing a code. sessionsAccount are their credentials, by key.
	sessions        map[string]*principal
	sessionsAccount map[string]Account
	// shared holds, per creating operation, the decoded answer of the one
	// resource alice created through it and every case reuses.
	shared map[string]any
	// refresh is the refresh token the success cases pass along: login →
	// refresh → logout.
	refresh string
	// paying is the order the next payment event names (webhookCall).
	paying payingOrder
	// mfaSecret is the TOTP secret the enrolment's success case got for
	// the run's own account, which the confirmation and the step-up
	// compute codes from.
	mfaSecret string
	nonce     int
	payload   int // the next injection value: the corpus is dealt out across parameters

	tallies map[string]*Tally
	rows    []string
}

func runBattery(ctx context.Context, t *Target, opts BatteryOptions) (Result, error) {
	data := opts.Document
	if data == nil {
		var err error
		if data, err = t.fetchDocument(ctx); err != nil {
			return Result{}, err
		}
	}
	doc, ops, err := loadDocument(ctx, data)
	if err != nil {
		return Result{}, err
	}
	b := &battery{t: t, opts: opts, doc: doc, ops: ops, byID: map[string]*operation{}, shared: map[string]any{}, tallies: map[string]*Tally{}}
	for _, o := range ops {
		b.byID[o.id] = o
	}
	for _, id := range opts.Operations {
		if b.byID[id] == nil {
			return Result{}, fmt.Errorf("operation %q is not in the document", id)
		}
	}
	if err := b.signIn(ctx); err != nil {
		return Result{}, err
	}

	// The contract and success cases come first: the success answers
	// teach the battery the routes' rate limits and the signed links the
	// later cases need.
	var first []batteryCase
	for _, o := range b.selected() {
		first = append(first, b.contractCase(o))
	}
	// The operations that end sessions succeed last of all: their
	// success would leave every later case of theirs without a session.
	var last []batteryCase
	for _, o := range successOrder(b.selected()) {
		if endsSessions(o) {
			last = append(last, b.successCase(o))
			continue
		}
		first = append(first, b.successCase(o))
	}
	ran, planned := b.runCases(ctx, first), len(first)
	if ctx.Err() == nil {
		var rest []batteryCase
		for _, o := range b.selected() {
			rest = slices.Concat(rest, b.authCases(o), b.signatureCases(o), b.ownerCases(o), b.staffCases(o), b.bodyCases(o), b.paramCases(o))
		}
		rest = append(rest, b.inventoryCases()...)
		ran += b.runCases(ctx, interleave(rest))
		planned += len(rest)
	}
	if ctx.Err() == nil {
		ran += b.runCases(ctx, last)
	}
	planned += len(last)
	return b.result(ctx, ran, planned)
}

// selected are the operations the run attacks.
func (b *battery) selected() []*operation {
	if len(b.opts.Operations) == 0 {
		return b.ops
	}
	var out []*operation
	for _, o := range b.ops {
		if slices.Contains(b.opts.Operations, o.id) {
			out = append(out, o)
		}
	}
	return out
}

// signIn gets the three demo accounts' tokens (reusing the target's
// sessions, so a run after other attacks spends no extra login).
func (b *battery) signIn(ctx context.Context) error {
	for _, p := range []struct {
		into    *principal
		name    string
		account Account
	}{{&b.alice, "alice", b.t.Alice}, {&b.bob, "bob", b.t.Bob}, {&b.admin, "admin", b.t.Admin}} {
		var token string
		if p.into == &b.admin && b.t.Ops.TOTPSecret != "" {
			// The staff member with a second factor, signed in with it: the
			// refund and coupon routes take a recent second factor
			// (docs/12-business-flows.md), so a plain admin's valid
			// request would be refused and the route left unproven.
			tok, err := b.t.StaffToken(ctx)
			if err != nil {
				return err
			}
			token = tok
		} else {
			tok, err := b.t.login(ctx, p.account)
			if err != nil {
				return err
			}
			token = tok.AccessToken
		}
		m, x, err := b.t.me(ctx, token)
		if err != nil {
			return err
		}
		if x.status != http.StatusOK {
			return fmt.Errorf("control: %s's token does not read /users/me: %s", p.name, x)
		}
		*p.into = principal{name: p.name, token: token, me: m}
	}
	return b.signInSessions(ctx)
}

// signInSessions registers and signs in the accounts the operations of
// ownAccount run as. A target without the registration route (or these
// operations) gets none: their cases then run as nobody and are refused.
func (b *battery) signInSessions(ctx context.Context) error {
	b.sessions, b.sessionsAccount = map[string]*principal{}, map[string]Account{}
	if _, ok := b.byID["register"]; !ok {
		return nil
	}
	for _, id := range []string{"logoutAll", "changePassword", "mfa"} {
		n := randomToken(8)
		acct := Account{Email: "battery-sessions-" + strings.ToLower(n) + "@example.com", Password: "battery-sessions-password-" + n}
		body, err := json.Marshal(map[string]string{"email": acct.Email, "password": acct.Password, "name": "Battery Sessions"})
		if err != nil {
			return err
		}
		x, err := b.t.send(ctx, request{method: http.MethodPost, path: "/api/v1/auth/register", body: string(body)})
		if err != nil {
			return err
		}
		if x.status != http.StatusCreated {
			return fmt.Errorf("control: register the battery's own account: %s", x)
		}
		tok, err := b.t.freshLogin(ctx, acct)
		if err != nil {
			return err
		}
		b.sessionsAccount[id] = acct
		b.sessions[id] = &principal{name: "a throwaway account", token: tok.AccessToken}
	}
	return nil
}

// runCases runs the cases one after another and tallies them; it returns
// how many ran before ctx ended. Sequential on purpose: cases read back
// what a refused write left, and time their answers.
func (b *battery) runCases(ctx context.Context, cases []batteryCase) int {
	for i, c := range cases {
		if ctx.Err() != nil {
			return i
		}
		b.tally(c, b.runCase(ctx, c))
	}
	return len(cases)
}

func (b *battery) runCase(ctx context.Context, c batteryCase) (out caseOutcome) {
	// A case parses whatever the server sends back; if that ever panics,
	// it is this case that could not run, and the rest of the run survives.
	defer func() {
		if p := recover(); p != nil {
			out = cannot("the case panicked: %v", p)
		}
	}()
	return c.run(ctx)
}

// maxFindings bounds the evidence kept per row; the counts stay exact.
const maxFindings = 6

func (b *battery) tally(c batteryCase, out caseOutcome) {
	row, ok := b.tallies[c.row]
	if !ok {
		row = &Tally{Operation: c.row}
		if o := b.byID[c.row]; o != nil {
			row.Method, row.Path, row.Policy = o.method, o.path, o.policy
		}
		b.tallies[c.row] = row
		b.rows = append(b.rows, c.row)
	}
	row.Tried++
	switch out.verdict {
	case Blocked:
		row.Blocked++
		return
	case Exploited:
		row.Exploited++
	case Skipped:
		row.Skipped++
	default:
		row.Unproven++
	}
	if len(row.Findings) < maxFindings {
		row.Findings = append(row.Findings, fmt.Sprintf("%s %s: %s", out.verdict, c.name, clip(out.evidence, 400)))
	}
}

// result sums the tallies into one verdict: EXPLOITED when any case was,
// an error when any could not run or the run was cut short (a battery that
// did not finish proved nothing about the rest), BLOCKED otherwise. The
// tallies are in the result either way.
func (b *battery) result(ctx context.Context, ran, planned int) (Result, error) {
	var sum Tally
	cases := make([]Tally, 0, len(b.rows))
	for _, name := range b.rows {
		row := b.tallies[name]
		cases = append(cases, *row)
		sum.Tried += row.Tried
		sum.Blocked += row.Blocked
		sum.Exploited += row.Exploited
		sum.Skipped += row.Skipped
		sum.Unproven += row.Unproven
	}
	var findings []string
	for _, row := range cases {
		for _, f := range row.Findings {
			if !strings.HasPrefix(f, string(Skipped)) {
				findings = append(findings, row.Operation+": "+f)
			}
		}
	}
	summary := fmt.Sprintf("%d cases over %d operations: %d blocked, %d exploited, %d skipped, %d unproven",
		sum.Tried, len(b.selected()), sum.Blocked, sum.Exploited, sum.Skipped, sum.Unproven)
	if len(findings) > 0 {
		summary += " | " + strings.Join(findings[:min(len(findings), 4)], " | ")
	}
	res := Result{Verdict: Blocked, Evidence: summary, Cases: cases}
	switch {
	case sum.Exploited > 0:
		res.Verdict = Exploited
	case ran < planned:
		return res, fmt.Errorf("battery interrupted after %d of %d cases: %w", ran, planned, context.Cause(ctx))
	case sum.Unproven > 0:
		return res, fmt.Errorf("%d of %d cases could not run, so what they test is unproven: %s", sum.Unproven, sum.Tried, summary)
	case sum.Skipped > 0:
		res.Evidence += fmt.Sprintf(" (the %d skipped cases need what the run did not have, such as -signing-key, -webhook-secret or -import-url)", sum.Skipped)
	}
	return res, nil
}

// interleave spreads the cases of tightly limited routes (the sign-in
// routes allow ten requests a minute per address) evenly through the
// others, so the limit refills between them instead of the run waiting
// for it.
func interleave(cases []batteryCase) []batteryCase {
	var plenty, scarce []batteryCase
	for _, c := range cases {
		if c.scarce {
			scarce = append(scarce, c)
		} else {
			plenty = append(plenty, c)
		}
	}
	if len(scarce) == 0 {
		return plenty
	}
	out := make([]batteryCase, 0, len(cases))
	gap := float64(len(plenty)) / float64(len(scarce))
	next := 0.0
	for i, c := range plenty {
		for len(scarce) > 0 && float64(i) >= next {
			out = append(out, scarce[0])
			scarce = scarce[1:]
			next += gap
		}
		out = append(out, c)
	}
	return append(out, scarce...)
}

// call is a request to a documented operation.
type call struct {
	o     *operation
	as    *principal        // whose token; nil sends none
	token string            // a forged token, sent instead of as's
	path  map[string]string // path parameter values, unescaped
	query string            // the raw query string, as sent
	body  string
	ctype string // "" is application/json when body is set
	// sign, when set, makes the request's Bulwark-Signature header from
	// the body as sent (a SignedWebhook operation: the signature is the
	// permission); "" sends none.
	sign func(body string) string
	// check, when set, is the read-back of what the request could write,
	// in place of the one the document's paths suggest (a webhook's event
	// names the order it would change; its own path has no GET).
	check *call
}

func (c call) with(f func(*call)) call {
	c.path = maps.Clone(c.path)
	f(&c)
	return c
}

func (c call) target() string {
	path := c.o.path
	for name, v := range c.path {
		path = strings.ReplaceAll(path, "{"+name+"}", pathEscape(v))
	}
	if c.query != "" {
		path += "?" + c.query
	}
	return path
}

func (b *battery) send(ctx context.Context, c call) (*exchange, error) {
	r := request{method: c.o.method, path: c.target(), body: c.body, ctype: c.ctype}
	if c.sign != nil {
		if sig := c.sign(c.body); sig != "" {
			r.headers = map[string]string{signatureHeader: sig}
		}
	}
	switch {
	case c.token != "":
		r.token = c.token
	case c.as != nil:
		r.token = c.as.token
	}
	return b.paced(ctx, r)
}

// maxWaits bounds how often one request waits out a 429.
const maxWaits = 5

// paced sends r and waits out a 429 as its Retry-After says. The limiter
// answers before any handler, so a 429 says nothing about the case; the
// battery is never about rate limits, whose attacks are elsewhere.
func (b *battery) paced(ctx context.Context, r request) (*exchange, error) {
	for attempt := 0; ; attempt++ {
		x, err := b.t.sendOnce(ctx, r)
		if err != nil || x.status != http.StatusTooManyRequests || attempt == maxWaits {
			return x, err
		}
		wait, _ := strconv.Atoi(x.header.Get("Retry-After"))
		select {
		case <-time.After(time.Duration(min(max(wait, 1), 65)) * time.Second):
		case <-ctx.Done():
			return nil, fmt.Errorf("%s %s: waiting out a 429: %w", r.method, r.path, ctx.Err())
		}
	}
}

// errSkip marks a case that cannot run without something the run lacks.
var errSkip = errors.New("skipped") //nolint:gochecknoglobals // sentinel.
