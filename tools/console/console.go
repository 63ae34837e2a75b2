//go:build workshop

// Package console is the workshop console: a page at /workshop/ with one
// card per issue (every issue workshop.Issues lists), on which the
// facilitator flips the issue's switch, runs its attacks from the catalogue
// (tools/attack) inside the server and shows each verdict with its
// evidence, and resets the demo data (docs/workshop.md).
//
// It lives under tools/ because it runs the attack catalogue, and the
// service never depends on its tools; only the workshop build's wiring
// (internal/app/workshop_on.go) registers it, on the facilitator's
// loopback-only route group, and tests/imports_test.go allows exactly
// that one import. The default build contains none of it.
//
// The page follows the staff dashboard's rules (internal/admin/dashboard):
// its files are embedded, it has no inline script or style, it is served
// with the strict page CSP (web.PageCSP, Trusted Types included), and it
// renders every text it receives with textContent, never as HTML. The
// console shows attack evidence, which quotes whatever the server
// answered, markup included: the page that teaches stored XSS must not
// have one.
package console

import (
	"context"
	"embed"
	"fmt"
	"net"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/config"
	"github.com/bulwark-dev/bulwark/internal/web"
	"github.com/bulwark-dev/bulwark/tools/attack"
)

// pageFiles are the console's page, script and style, compiled in.
//
//go:embed page
var pageFiles embed.FS //nolint:gochecknoglobals // go:embed needs a package-level variable.

// Source is where the cards' code and docs links point: the repository's
// files as its host shows them.
const Source = "https://github.com/bulwark-dev/bulwark/blob/main/"

// Bounds on a run. An issue's attacks take well under ten seconds against
// the secure code; a vulnerable variant that sleeps (sqli) or never
// refuses (ratelimit) takes longer, but each attack is bounded, and the
// whole run ends before the server's write timeout (60 s) would cut the
// answer off.
const (
	attackTimeout = 30 * time.Second
	runTimeout    = 55 * time.Second
)

// Switchboard is the workshop's switchboard as the console sees it, in
// plain strings: the wiring adapts internal/workshop's Board to it, so
// that nothing but the wiring imports internal/workshop.
type Switchboard interface {
	Issues() []string               // every issue with variants, in order
	Variants(issue string) []string // what the issue can be switched to
	Get(issue string) string        // its variant now
}

// naive is the variant that stands for the tempting fix that still fails.
const naive = "naive"

// Options are what the console needs from the server it runs in.
type Options struct {
	Board Switchboard
	// SigningKey is the server's token key, so the attacks that forge
	// correctly signed tokens run too; WebhookKey is the payment webhook
	// secret, for the webhook attacks that replay a genuine event. Both
	// are the server's own, used only against itself.
	SigningKey config.SigningKey
	WebhookKey config.SigningKey
	// NewStaff creates an admin account (attack.Target.NewStaff).
	NewStaff func(ctx context.Context, email, password, name string) error
}

type console struct {
	opts Options
	// running admits one run at a time: the attacks of two runs at once
	// would slow each other's timing measurements into false verdicts.
	running sync.Mutex
	sources attack.Sources
}

// Routes adds the console to g, the facilitator's route group
// (workshop.Routes: loopback peers, loopback Host, same Origin).
func Routes(g *echo.Group, opts Options) {
	c := &console{opts: opts}
	page := web.PageHeaders()
	g.GET("", func(ec *echo.Context) error { return ec.Redirect(http.StatusMovedPermanently, "/workshop/") })
	g.GET("/", file("index.html"), page)
	g.GET("/app.js", file("app.js"), page)
	g.GET("/app.css", file("app.css"), page)
	g.GET("/api/issues", c.issues)
	g.POST("/api/run", c.run)
}

// file serves one embedded file. A name that is not embedded is a build
// defect, so it stops the server at start.
func file(name string) echo.HandlerFunc {
	body, err := pageFiles.ReadFile(path.Join("page", name))
	ctype, known := map[string]string{
		".html": "text/html; charset=utf-8",
		".js":   "text/javascript; charset=utf-8",
		".css":  "text/css; charset=utf-8",
	}[path.Ext(name)]
	if err != nil || !known {
		panic(fmt.Sprintf("console: page file %q is not embedded or has no content type: %v", name, err))
	}
	return func(c *echo.Context) error { return c.Blob(http.StatusOK, ctype, body) }
}

// card is one issue as the page draws it.
type card struct {
	Issue    string   `json:"issue"`
	Variant  string   `json:"variant"`
	Variants []string `json:"variants"`
	guide
	Attacks []attackInfo `json:"attacks"`
}

type attackInfo struct {
	ID    string `json:"id"`
	Story string `json:"story"`
	CWE   string `json:"cwe"`
	OWASP string `json:"owasp"`
}

// issues is GET /workshop/api/issues: a card per issue, in the
// switchboard's order, with the current variant.
func (c *console) issues(ec *echo.Context) error {
	board := c.opts.Board
	cards := make([]card, 0, len(board.Issues()))
	for _, issue := range board.Issues() {
		k := card{Issue: issue, Variant: board.Get(issue), Variants: board.Variants(issue), guide: guideFor(issue), Attacks: []attackInfo{}}
		for _, a := range attack.ByIssue(issue) {
			k.Attacks = append(k.Attacks, attackInfo{ID: a.ID, Story: a.Story, CWE: a.CWE, OWASP: a.OWASP})
		}
		cards = append(cards, k)
	}
	return ec.JSON(http.StatusOK, map[string]any{"source": Source, "cards": cards})
}

// runReport is the answer of POST /workshop/api/run.
type runReport struct {
	Issue    string    `json:"issue"`
	Variant  string    `json:"variant"`
	Headline string    `json:"headline"`
	Verdict  string    `json:"verdict"` // EXPLOITED, BYPASSED, BLOCKED or ERROR
	Note     string    `json:"note,omitempty"`
	Results  []verdict `json:"results"`
}

// verdict is one attack's outcome, its evidence split for the page into
// what the attack concluded, the telling request and the telling part of
// the response.
type verdict struct {
	ID         string `json:"id"`
	Story      string `json:"story"`
	CWE        string `json:"cwe"`
	Verdict    string `json:"verdict"`
	Summary    string `json:"summary"`
	Request    string `json:"request,omitempty"`
	Response   string `json:"response,omitempty"`
	DurationMS int64  `json:"duration_ms"`
}

// run is POST /workshop/api/run?issue=…: the catalogue's attacks for the
// issue, against this very server, each from its own loopback address as
// customers of its own (attack.ForAttack), so runs can follow each other
// without a reset and the demo accounts stay as they are.
func (c *console) run(ec *echo.Context) error {
	issue := ec.QueryParam("issue")
	if issues := c.opts.Board.Issues(); !slices.Contains(issues, issue) {
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("issue must be one of %s", strings.Join(issues, ", ")))
	}
	attacks := attack.ByIssue(issue)
	if len(attacks) == 0 {
		return echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("the catalogue has no attacks for %s yet", issue))
	}
	if !c.running.TryLock() {
		return echo.NewHTTPError(http.StatusConflict, "another run is in progress: wait for its verdicts")
	}
	defer c.running.Unlock()

	// The attacks speak to the address this request came in on, which
	// facilitatorOnly has checked is loopback: the server's own.
	local, ok := ec.Request().Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return fmt.Errorf("console: no local address on the request")
	}
	target := attack.DemoTarget("http://" + local.String())
	target.SigningKeyID, target.SigningKey = c.opts.SigningKey.ID, c.opts.SigningKey.Secret
	if len(c.opts.WebhookKey.Secret) > 0 {
		target.Webhook = &attack.WebhookKey{ID: c.opts.WebhookKey.ID, Secret: c.opts.WebhookKey.Secret}
	}
	target.Pace = true
	if c.opts.NewStaff != nil {
		target.NewStaff = func(ctx context.Context, a attack.Account) error {
			return c.opts.NewStaff(ctx, a.Email, a.Password, a.Name)
		}
	}

	// The request's own deadline (REQUEST_TIMEOUT) is for API calls; a
	// run gets its own bound, and ends with the server.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ec.Request().Context()), runTimeout)
	defer cancel()
	report := runReport{Issue: issue, Variant: c.opts.Board.Get(issue)}
	sources := &c.sources
	if ok, why := attack.CanIsolate(ctx, target.BaseURL, sources); !ok {
		sources = nil
		report.Note = "pacing instead of isolating, so the run waits out the server's rate limits: " + why
	}
	outcomes := attack.RunAll(ctx, target, sources, attacks, attackTimeout, nil, nil)
	if now := c.opts.Board.Get(issue); now != report.Variant {
		report.Note = strings.TrimSpace(report.Note + fmt.Sprintf(" The switch moved from %s to %s during the run: run again for clean verdicts.", report.Variant, now))
	}
	report.Results = make([]verdict, 0, len(outcomes))
	for _, o := range outcomes {
		v := verdict{ID: o.Attack.ID, Story: o.Attack.Story, CWE: o.Attack.CWE, Verdict: o.Verdict, DurationMS: o.Duration.Milliseconds()}
		v.Summary, v.Request, v.Response = splitEvidence(o.Evidence)
		report.Results = append(report.Results, v)
	}
	report.Verdict, report.Headline = headline(report.Variant, outcomes, len(attacks))
	return ec.JSON(http.StatusOK, report)
}

// headline sums a run up in one line for the room. A naive variant that
// still lets an attack through is BYPASSED: the lesson of the naive fix.
func headline(v string, outcomes []attack.Outcome, selected int) (string, string) {
	var exploited, errs int
	for _, o := range outcomes {
		switch o.Verdict {
		case string(attack.Exploited):
			exploited++
		case string(attack.Blocked), string(attack.Skipped):
		default:
			errs++
		}
	}
	n := len(outcomes)
	switch {
	case exploited > 0 && v == naive:
		verb := "still get"
		if exploited == 1 {
			verb = "still gets"
		}
		return "BYPASSED", fmt.Sprintf("BYPASSED: the naive fix stops %d of %d attacks, and %d %s through", n-exploited-errs, n, exploited, verb)
	case exploited > 0:
		return string(attack.Exploited), fmt.Sprintf("EXPLOITED: %d of %d attacks got through", exploited, n)
	case errs > 0 || n < selected:
		return attack.VerdictError, fmt.Sprintf("UNPROVEN: %d of %d attacks could not run", errs+selected-n, selected)
	}
	return string(attack.Blocked), fmt.Sprintf("BLOCKED: all %d attacks", n)
}

// methods start the request in an attack's evidence ("… GET /path body →
// status body", tools/attack's exchange.String).
func methods() []string {
	return []string{"GET ", "POST ", "PUT ", "PATCH ", "DELETE ", "OPTIONS ", "HEAD "}
}

// splitEvidence cuts an attack's evidence at its first exchange: the
// conclusion before it, the request, and the response after the arrow.
// Evidence without an exchange is all conclusion.
func splitEvidence(e string) (summary, request, response string) {
	arrow := strings.Index(e, " → ")
	if arrow < 0 {
		return e, "", ""
	}
	start := -1
	for _, m := range methods() {
		if i := strings.LastIndex(e[:arrow], m); i >= 0 && (i == 0 || e[i-1] == ' ') && (start < 0 || i < start) {
			start = i
		}
	}
	if start < 0 {
		return e, "", ""
	}
	summary = strings.TrimRight(strings.TrimSpace(e[:start]), ":")
	return summary, e[start:arrow], e[arrow+len(" → "):]
}
