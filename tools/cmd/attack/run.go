package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/app"
	"github.com/bulwark-dev/bulwark/internal/config"
	"github.com/bulwark-dev/bulwark/tools/attack"
)

// Exit statuses, as documented in the package comment.
const (
	exitOK        = 0
	exitExploited = 1
	exitFailed    = 2 // bad usage, or an attack could not run: nothing was proven
)

// verdictError is the verdict column of an attack that could not run
// (attack.VerdictError): never counted as BLOCKED.
const verdictError = attack.VerdictError

// rateLimitIssue is the issue whose attacks spend the server's login limits.
const rateLimitIssue = "ratelimit"

// signingKeyEnv may hold the -signing-key value instead of the command
// line, where a real key would be visible to every user of the machine (ps)
// and kept in shell history.
const signingKeyEnv = "ATTACK_SIGNING_KEY"

// webhookKeyEnv may hold the -webhook-secret value, for the same reason.
const webhookKeyEnv = "ATTACK_WEBHOOK_SECRET"

// statusError is an error that decides the process exit status.
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &statusError{status: exitFailed, msg: fmt.Sprintf(format, args...)}
}

// exitStatus maps run's error to the exit status. An error that does not
// say otherwise is a run that did not complete.
func exitStatus(err error) int {
	if err == nil {
		return exitOK
	}
	var se *statusError
	if errors.As(err, &se) {
		return se.status
	}
	return exitFailed
}

// options are the validated flags.
type options struct {
	target       *url.URL
	issue        string
	attackID     string
	list         bool
	json         bool
	timeout      time.Duration
	signingKeyID string
	signingKey   []byte
	allowRemote  bool
	openAPIFile  string // the battery's document; "" fetches the server's own
	routeTable   bool   // give the battery this build's route table
	importURL    string // a URL the server may fetch: the battery's valid importFile body
	webhookKey   *attack.WebhookKey
}

// run is the whole command; main only wires it to the process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "score" {
		return runScore(ctx, args[1:], stdout)
	}
	opts, err := parseArgs(args, getenv, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil // -h printed the usage; asking for help is not a failure
	}
	if err != nil {
		return err
	}
	battery, err := batteryAttack(opts)
	if err != nil {
		return err
	}
	attacks, err := selectAttacks(opts.issue, opts.attackID, battery)
	if err != nil {
		return err
	}
	if opts.list {
		return writeList(stdout, attacks, opts.json)
	}
	if !opts.allowRemote && !isLoopback(opts.target.Hostname()) {
		return usageErrorf("refusing to attack %s: it is not this machine (loopback), and these attacks send real exploit traffic; attack only servers you run, or pass -allow-remote for one you own", opts.target.Host)
	}

	target := attack.DemoTarget(opts.target.String())
	target.SigningKeyID, target.SigningKey = opts.signingKeyID, opts.signingKey
	target.Webhook = opts.webhookKey
	// One server serves the whole run. Each attack speaks from its own
	// loopback address, as customers of its own (attack.ForAttack), so no
	// attack waits on a limit another spent and the demo accounts stay as
	// seeded. Where that cannot be (a remote target), the sign-ins the
	// attacks make for their footholds are paced instead.
	target.Pace = true
	var sources *attack.Sources
	if ok, why := attack.CanIsolate(ctx, target.BaseURL, &attack.Sources{}); ok {
		sources = &attack.Sources{}
	} else {
		_, _ = fmt.Fprintf(stderr, "attack: pacing instead of isolating, so the run waits out the server's rate limits: %s\n", why)
	}
	outcomes := runAttacks(ctx, target, sources, attacks, opts.timeout, stderr)

	sum := summarize(outcomes)
	if opts.json {
		// stdout stays a clean JSON document for jq and CI; the summary
		// is for the person watching.
		if err := writeJSON(stdout, outcomes); err != nil {
			return err
		}
		if err := writeSummary(stderr, sum); err != nil {
			return err
		}
	} else {
		if err := writeTable(stdout, outcomes); err != nil {
			return err
		}
		if err := writeSummary(stdout, sum); err != nil {
			return err
		}
	}
	return verdictErr(sum, len(outcomes), len(attacks))
}

// verdictErr turns the tally into the exit status. Exploitation wins over
// errors: one proven exploit is the finding that matters, whatever else
// could not run.
func verdictErr(sum summary, ran, selected int) error {
	switch {
	case sum.exploited > 0:
		return &statusError{status: exitExploited, msg: fmt.Sprintf("%d of %d attacks exploited the target", sum.exploited, ran)}
	case sum.errors > 0:
		return &statusError{status: exitFailed, msg: fmt.Sprintf("%d of %d attacks could not run, so their defences are unproven", sum.errors, ran)}
	case ran < selected:
		return &statusError{status: exitFailed, msg: fmt.Sprintf("interrupted after %d of %d attacks", ran, selected)}
	}
	return nil
}

func parseArgs(args []string, getenv func(string) string, help io.Writer) (options, error) {
	fs := flag.NewFlagSet("attack", flag.ContinueOnError)
	// The flag package would print its own error and the whole usage on
	// every mistake; run returns the error once instead, and prints the
	// usage only when asked (-h).
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}

	var (
		opts       options
		rawTarget  string
		signingKey string
		webhookKey string
	)
	fs.StringVar(&rawTarget, "target", "http://127.0.0.1:8080", "base `URL` of the server under attack (make demo serves one there)")
	fs.StringVar(&opts.issue, "issue", "", "run only the attacks of one issue `NAME`: "+strings.Join(append(attack.Issues(), attack.BatteryIssue), ", ")+
		";\n\""+attack.BatteryIssue+"\" is the OpenAPI battery, every operation of the server's document attacked, which a full run leaves out (about two minutes)")
	fs.StringVar(&opts.attackID, "attack", "", "run only the attack with this `ID` (see -list)")
	fs.BoolVar(&opts.list, "list", false, "print the catalogue (id, issue, OWASP, CWE, story) and send nothing")
	fs.BoolVar(&opts.json, "json", false, "print a JSON array of {id, issue, owasp, cwe, story, verdict, evidence, duration_ms}")
	fs.DurationVar(&opts.timeout, "timeout", 2*time.Minute, "time limit for each attack")
	fs.StringVar(&signingKey, "signing-key", "",
		"the server's token signing key as `kid:base64url`, for the attacks that forge correctly signed tokens (without it they are SKIPPED);\n"+
			"\"dev\" is shorthand for the published development key "+config.DevSigningKey+";\n"+
			"defaults to $"+signingKeyEnv+", which keeps a real key out of ps and shell history")
	fs.StringVar(&webhookKey, "webhook-secret", "",
		"the payment webhook secret as `kid:base64url` (PAYMENT_WEBHOOK_SECRETS), for the webhook attacks that replay or bend a genuinely signed event (without it they are SKIPPED);\n"+
			"\"dev\" is shorthand for the published development secret; defaults to $"+webhookKeyEnv)
	fs.BoolVar(&opts.allowRemote, "allow-remote", false, "allow a target that is not this machine (only a server you own: the attacks are real)")
	fs.StringVar(&opts.openAPIFile, "openapi", "", "the battery's OpenAPI document, from this `FILE` instead of the server's GET /api/v1/openapi.yaml")
	fs.StringVar(&opts.importURL, "import-url", "", "a `URL` the server under test may fetch (an https file, or in development one of its IMPORT_ALLOW_HOSTS),\n"+
		"the battery's valid body for importFile (without it importFile's cases are SKIPPED)")
	fs.BoolVar(&opts.routeTable, "route-table", true, "give the battery this build's route table (internal/app/routes.go), so it reports a served route the document lacks;\n"+
		"-route-table=false for a server built from another tree")

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			writeUsage(help, fs)
			return options{}, err
		}
		return options{}, usageErrorf("%v (see -h)", err)
	}
	if fs.NArg() > 0 {
		return options{}, usageErrorf("unexpected argument %q: everything is a flag (see -h)", fs.Arg(0))
	}
	if opts.issue != "" && opts.attackID != "" {
		return options{}, usageErrorf("use -issue or -attack, not both")
	}
	if opts.timeout <= 0 {
		return options{}, usageErrorf("-timeout must be positive, got %s", opts.timeout)
	}
	target, err := parseTarget(rawTarget)
	if err != nil {
		return options{}, err
	}
	opts.target = target
	if signingKey == "" {
		signingKey = getenv(signingKeyEnv)
	}
	if signingKey != "" {
		if opts.signingKeyID, opts.signingKey, err = parseSigningKey(signingKey); err != nil {
			return options{}, err
		}
	}
	if opts.importURL != "" {
		if u, err := url.Parse(opts.importURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return options{}, usageErrorf("-import-url must be an absolute http(s) URL the server may fetch, got %q", opts.importURL)
		}
	}
	if webhookKey == "" {
		webhookKey = getenv(webhookKeyEnv)
	}
	if webhookKey == "dev" {
		webhookKey = config.DevPaymentWebhookSecret
	}
	if webhookKey != "" {
		kid, secret, err := parseSigningKey(webhookKey)
		if err != nil {
			return options{}, usageErrorf("-webhook-secret must be kid:base64url (as in PAYMENT_WEBHOOK_SECRETS), or \"dev\"")
		}
		opts.webhookKey = &attack.WebhookKey{ID: kid, Secret: secret}
	}
	return opts, nil
}

func writeUsage(w io.Writer, fs *flag.FlagSet) {
	_, _ = fmt.Fprint(w, `Usage: go run ./tools/cmd/attack [flags]

Runs the attack catalogue against a Bulwark server, one attack after another,
and prints each verdict (BLOCKED, EXPLOITED, SKIPPED, or ERROR when an attack
could not run). Many attacks need a freshly seeded server: restart it with
make demo between full runs, or run one issue at a time.

Exit status: 0 nothing exploited, 1 something EXPLOITED,
2 usage error or an attack could not run.

Flags:
`)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// parseTarget accepts an absolute http(s) URL with a host; the attacks
// append their paths to it, so a query or fragment would corrupt them.
func parseTarget(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, usageErrorf("-target %q is not a URL: %v", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, usageErrorf("-target %q must be an http:// or https:// URL", raw)
	}
	if u.Hostname() == "" {
		return nil, usageErrorf("-target %q has no host", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, usageErrorf("-target %q must be a base URL, without query or fragment", raw)
	}
	return u, nil
}

// isLoopback reports whether host is this machine: "localhost" or a
// loopback address (127.0.0.0/8, ::1). Other names are not resolved: a name
// could resolve to loopback now and to someone else's server when the
// attacks connect (DNS rebinding), so only what the user typed counts.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// parseSigningKey reads kid:base64url, the format of JWT_SIGNING_KEYS. The
// key itself never appears in an error message.
func parseSigningKey(s string) (kid string, key []byte, err error) {
	if s == "dev" {
		s = config.DevSigningKey
	}
	kid, encoded, ok := strings.Cut(s, ":")
	if !ok || kid == "" || encoded == "" {
		return "", nil, usageErrorf(`-signing-key must be kid:base64url (as in JWT_SIGNING_KEYS), or "dev" for the development key`)
	}
	// Padded or standard base64 are accepted too, as the server accepts them.
	encoded = strings.TrimRight(encoded, "=")
	key, err = base64.RawURLEncoding.DecodeString(encoded)
	if err != nil {
		if key, err = base64.RawStdEncoding.DecodeString(encoded); err != nil {
			return "", nil, usageErrorf("-signing-key %q: the key is not valid base64", kid)
		}
	}
	return kid, key, nil
}

// selectAttacks picks the attacks to run, in the order they run. The
// extra attacks (the battery) are chosen by their issue or id only: a
// full run is the catalogue.
func selectAttacks(issue, id string, extra ...attack.Attack) ([]attack.Attack, error) {
	all := slices.Concat(attack.Catalogue(), extra)
	issues := attack.Issues()
	for _, a := range extra {
		issues = append(issues, a.Issue)
	}
	switch {
	case id != "":
		i := slices.IndexFunc(all, func(a attack.Attack) bool { return a.ID == id })
		if i < 0 {
			ids := make([]string, len(all))
			for j, a := range all {
				ids[j] = a.ID
			}
			return nil, usageErrorf("unknown attack %q; valid ids are:\n  %s", id, strings.Join(ids, "\n  "))
		}
		return all[i : i+1], nil
	case issue != "":
		if !slices.Contains(issues, issue) {
			return nil, usageErrorf("unknown issue %q; valid issues are: %s", issue, strings.Join(issues, ", "))
		}
		return slices.DeleteFunc(all, func(a attack.Attack) bool { return a.Issue != issue }), nil
	}
	return rateLimitLast(attack.Catalogue()), nil
}

// batteryAttack is the OpenAPI battery with the runner's options: the
// document from -openapi, and this build's route table unless
// -route-table=false, and the URL importFile fetches from -import-url.
func batteryAttack(opts options) (attack.Attack, error) {
	bo := attack.BatteryOptions{ImportURL: opts.importURL}
	if opts.openAPIFile != "" {
		doc, err := os.ReadFile(opts.openAPIFile)
		if err != nil {
			return attack.Attack{}, usageErrorf("-openapi: %v", err)
		}
		bo.Document = doc
	}
	if opts.routeTable {
		served, err := routeTable()
		if err != nil {
			return attack.Attack{}, err
		}
		bo.Served = served
	}
	return attack.Battery(bo), nil
}

// routeTable is this build's route table in the default configuration,
// paths written as OpenAPI writes them; nothing is opened or served. The
// fallbacks that answer unmatched paths are not routes.
func routeTable() ([]attack.Endpoint, error) {
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		return nil, fmt.Errorf("the route table's configuration: %w", err)
	}
	routes, err := app.Routes(cfg)
	if err != nil {
		return nil, fmt.Errorf("the route table: %w", err)
	}
	var out []attack.Endpoint
	for _, r := range routes {
		if r.Method == echo.RouteNotFound {
			continue
		}
		segments := strings.Split(r.Path, "/")
		for i, seg := range segments {
			if name, ok := strings.CutPrefix(seg, ":"); ok {
				segments[i] = "{" + name + "}"
			}
		}
		out = append(out, attack.Endpoint{Method: r.Method, Path: strings.Join(segments, "/")})
	}
	return out, nil
}

// rateLimitLast moves the rate-limit attacks to the end, keeping catalogue
// order otherwise. They exist to exhaust the server's login limits, and
// almost every other attack starts by logging in: run first, they would
// turn the rest of a full run into 429 errors.
func rateLimitLast(attacks []attack.Attack) []attack.Attack {
	out := make([]attack.Attack, 0, len(attacks))
	var limited []attack.Attack
	for _, a := range attacks {
		if a.Issue == rateLimitIssue {
			limited = append(limited, a)
			continue
		}
		out = append(out, a)
	}
	return append(out, limited...)
}

// outcome is one attack's line in the report.
type outcome = attack.Outcome

// runAttacks runs the attacks (attack.RunAll), printing progress: a full
// run takes a while, and progress on stderr shows it is alive without
// mixing into the table or the JSON on stdout.
func runAttacks(ctx context.Context, target *attack.Target, sources *attack.Sources, attacks []attack.Attack, timeout time.Duration, progress io.Writer) []outcome {
	return attack.RunAll(ctx, target, sources, attacks, timeout,
		func(i int, a attack.Attack) { _, _ = fmt.Fprintf(progress, "[%d/%d] %s ... ", i+1, len(attacks), a.ID) },
		func(_ int, o attack.Outcome) {
			_, _ = fmt.Fprintf(progress, "%s (%s)\n", o.Verdict, o.Duration.Round(time.Millisecond))
		})
}
