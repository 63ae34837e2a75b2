package attack

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SQL injection (CWE-89). OWASP's 2023 API list no longer has an entry of
// its own for injection (it was API8:2019); the catalogue files it under
// API8:2023, Security Misconfiguration.
//
// The list endpoints take sort, status, limit and cursor from the query
// string: exactly the input that ends up in ORDER BY, WHERE and LIMIT, and
// the classic home of injection because ORDER BY cannot be a bind
// parameter. Each attack sends a corpus of hostile values in one parameter
// and requires every one of them to be refused with a 400 problem+json that
// names the parameter (docs/05-sql-injection.md). A 200 is a finding even
// when nothing was injected: it means the value was accepted or silently
// replaced by a default, and a server that ignores what it does not
// understand is one whose next change may start to understand it.
func sqliAttacks() []Attack {
	customer := func(param, control string, corpus func() []probe) func(context.Context, *Target) (Result, error) {
		return func(ctx context.Context, t *Target) (Result, error) {
			tok, err := t.login(ctx, t.Alice)
			if err != nil {
				return Result{}, err
			}
			return fuzzList(ctx, t, listEndpoint{path: customerOrders, token: tok.AccessToken}, param, control, corpus())
		}
	}
	return []Attack{
		{
			ID: "sqli/sort", Issue: "sqli", OWASP: "API8:2023", CWE: "CWE-89",
			Story: "Put SQL in GET /orders?sort=… (stacked queries, CASE WHEN, UNION, pg_sleep, comments, look-alike and encoded names).",
			Run:   customer("sort", "sort=-total", sortCorpus),
		},
		{
			ID: "sqli/status", Issue: "sqli", OWASP: "API8:2023", CWE: "CWE-89",
			Story: "Put SQL in GET /orders?status=… (quote breaking, OR 1=1, LIKE wildcards, UNION, pg_sleep).",
			Run:   customer("status", "status=paid", statusCorpus),
		},
		{
			ID: "sqli/limit", Issue: "sqli", OWASP: "API8:2023", CWE: "CWE-89",
			Story: "Put SQL and odd numbers in GET /orders?limit=… (LIMIT ALL, OFFSET, negative, huge, exponent, foreign digits).",
			Run:   customer("limit", "limit=5", limitCorpus),
		},
		{
			ID: "sqli/cursor", Issue: "sqli", OWASP: "API8:2023", CWE: "CWE-89",
			Story: "Tamper with, re-sign, replay (as bob, for another sort or filter) and forge the pagination cursor, SQL inside included.",
			Run:   cursorAttack,
		},
		{
			ID: "sqli/admin-sort", Issue: "sqli", OWASP: "API8:2023", CWE: "CWE-89",
			Story: "As staff, put SQL in GET /admin/orders?sort=… and ?status=…: the list that spans every customer's orders.",
			Run:   adminSortAttack,
		},
	}
}

const (
	customerOrders = "/api/v1/orders"
	adminOrders    = "/api/v1/admin/orders"
)

// Bounds on response times. A sleep payload that reached PostgreSQL takes
// its two seconds; anything that slow is a finding. The spread bound catches
// a payload that costs real work without sleeping (a subquery that ran).
// Its floor keeps a scheduler or GC pause on a sub-millisecond median from
// passing for a finding: a query that ran stands well above it.
const (
	sleepBound   = 1500 * time.Millisecond
	spreadFactor = 10
	spreadFloor  = 250 * time.Millisecond
)

// probe is one hostile request and what its refusal must look like.
type probe struct {
	query string // the raw query string, exactly as sent
	token string // "" = the list's own caller
	field string // the name errors[].field must carry
	timed bool   // a sleep payload: must answer fast
}

// listEndpoint is an endpoint under attack and the caller attacking it.
type listEndpoint struct {
	path  string
	token string
}

// encodedProbe encodes v with url.Values, as a well-behaved client would: the
// server sees exactly v after decoding.
func encodedProbe(param, v string) probe {
	return probe{query: url.Values{param: {v}}.Encode(), field: param}
}

// rawProbe sends the query unencoded, for payloads whose point is the raw
// form (a literal ';', a bare '%', an encoding the client would have
// normalised). It must still be a valid request line: no space, no '#', no
// control byte. field is the name the refusal must give.
func rawProbe(field, query string) probe {
	return probe{query: query, field: field}
}

func (p probe) sleeps() probe {
	p.timed = true
	return p
}

// corpusFor is the whole corpus for one parameter: the shared injection
// values, the parameter's own hostile values, the raw and encoded forms and
// the pollution cases. a and b are two valid values, for pollution; a
// shared payload that is one of them is left out (ORDER BY 1's "1" is a
// perfectly good limit).
func corpusFor(param string, own []string, a, b string) []probe {
	var out []probe
	for _, v := range injectionValues() {
		if v != a && v != b {
			out = append(out, encodedProbe(param, v))
		}
	}
	for _, v := range sleepValues() {
		out = append(out, encodedProbe(param, v).sleeps())
	}
	for _, v := range own {
		out = append(out, encodedProbe(param, v))
	}
	out = append(out, rawInjections(param)...)
	return append(out, pollution(param, a, b)...)
}

// The corpora of sqli/sort, sqli/status and sqli/limit; the two values
// given to each are valid ones, for the pollution probes.
func sortCorpus() []probe   { return corpusFor("sort", sortValues(), "total", "-total") }
func statusCorpus() []probe { return corpusFor("status", statusValues(), "paid", "shipped") }
func limitCorpus() []probe  { return corpusFor("limit", limitValues(), "1", "100") }

// injectionValues are the shapes of SQL injection every parameter gets.
// Each would change a statement assembled from strings; none is a value an
// allowlist can mistake for one of its own.
func injectionValues() []string {
	return []string{
		// Stacked queries: end the statement, start another.
		"created_at;DROP TABLE orders--",
		"created_at; DROP TABLE orders; --",
		"1; UPDATE users SET role='admin' WHERE email='alice@example.com'--",
		// Blind extraction through ORDER BY: the row order answers a yes/no
		// question about another table, one bit per request.
		"CASE WHEN (SELECT substr(password_hash,1,1) FROM users WHERE role='admin')='$' THEN created_at ELSE total_cents END",
		"(CASE WHEN (SELECT count(*) FROM users)>1 THEN created_at ELSE total_cents END)",
		// Boolean: widen a WHERE clause.
		"created_at AND 1=1",
		"' OR '1'='1",
		"paid' OR '1'='1' --",
		"1 OR 1=1",
		"') OR ('1'='1",
		// Comments: cut off the rest of the statement, or stand in for spaces.
		"created_at/**/DESC",
		"created_at--",
		"created_at#",
		"created_at/*",
		// UNION: append another table's rows, hashes included.
		"created_at UNION SELECT password_hash FROM users--",
		"' UNION SELECT id, email, password_hash, NULL, NULL, NULL, NULL, NULL, NULL FROM users--",
		// Positional and placeholder syntax.
		"1",
		"$1",
		"?",
		"%s",
		// Column names that exist but are not on any allowlist.
		"password_hash",
		"owner_id",
		// Other dialects of "run this": server-side programs, casts, collations.
		"'; COPY (SELECT '') TO PROGRAM 'id'--",
		"created_at::text",
		`created_at COLLATE "C"`,
		// Encodings decoded once too often, or not at all.
		"created_at%3BDROP TABLE orders--",
		"created_at%253BDROP%2520TABLE%2520orders--",
		"created_at\x00",
		"created_at\x00;DROP TABLE orders--",
		"created_at\r\nX-Injected: 1",
		// Look-alikes that a normalising layer (NFKC, case folding, trimming)
		// turns into a real value after the check: fullwidth letters, a
		// Cyrillic "с", a zero-width space, a byte-order mark.
		"ｃｒｅａｔｅｄ＿ａｔ",
		"сreated_at",
		"created\u200b_at",
		"\ufeffcreated_at",
		// Not a string at all, to a lenient binder.
		`{"$gt":""}`,
		"[created_at]",
		"null",
		// Overlong: a buffer, a log line or a regexp that was not sized for it.
		strings.Repeat("created_at,", 400),
	}
}

// sleepValues reach PostgreSQL's pg_sleep if they reach SQL at all: the
// blind probe that needs no output, only a stopwatch.
func sleepValues() []string {
	return []string{
		"(SELECT pg_sleep(2))",
		"created_at,(SELECT 1 FROM pg_sleep(2))",
		"1;SELECT pg_sleep(2)--",
		"' OR (SELECT 1 FROM pg_sleep(2)) IS NOT NULL--",
		"CASE WHEN (SELECT true) THEN (SELECT created_at FROM pg_sleep(2), orders LIMIT 1) ELSE created_at END",
	}
}

// rawInjections are sent unencoded, so the server's own parsing of the
// query string is under test too: a parser that drops a malformed pair
// (url.URL.Query does) would answer with the default instead of a 400.
func rawInjections(param string) []probe {
	return []probe{
		rawProbe(param, param+"=created_at;DROP%20TABLE%20orders--"),
		rawProbe(param, param+"=-total;"),
		rawProbe(param, param+"=created_at%3BDROP%20TABLE%20orders--"),
		rawProbe(param, param+"=created_at%253BDROP%2520TABLE%2520orders--"),
		rawProbe(param, param+"=created_at'--"),
		rawProbe(param, param+"=created_at/**/DESC"),
		rawProbe(param, param+"=created_at%00"),
		rawProbe(param, param+"=%C0%BB"), // an overlong UTF-8 ';'
		rawProbe(param, param+"=created_at%"),
		rawProbe(param, param+"=created_at%2"),
		rawProbe(param, param+"=(SELECT%20pg_sleep(2))").sleeps(),
		rawProbe(param, param+"=created_at,(SELECT%201%20FROM%20pg_sleep(2))").sleeps(),
	}
}

// pollution gives the parameter twice, or under a near-miss name. Layers
// that disagree on which copy counts (a filter reads the first, the handler
// the last) are how a checked value and a used value come apart. A
// near-miss name must be refused under its own name: binding "SORT" or
// "sort[]" to sort is how case-insensitive and array binders smuggle values.
func pollution(param, a, b string) []probe {
	return []probe{
		rawProbe(param, param+"="+url.QueryEscape(a)+"&"+param+"="+url.QueryEscape(b)),
		rawProbe(param, param+"="+url.QueryEscape(a)+"&"+param+"="+url.QueryEscape("created_at;DROP TABLE orders--")),
		rawProbe(param, param+"="+url.QueryEscape(a)+"&"+param),
		rawProbe(param+"[]", param+"%5B%5D="+url.QueryEscape(a)),
		rawProbe(strings.ToUpper(param), param+"="+url.QueryEscape(a)+"&"+strings.ToUpper(param)+"="+url.QueryEscape(b)),
		// The name is echoed printable, its NUL as "?" (orders.clip).
		rawProbe(param+"?", param+"%00="+url.QueryEscape(a)),
	}
}

// sortValues are near misses of the four real sort values: other case,
// padding, two keys, other spellings, other minus signs.
func sortValues() []string {
	return []string{
		"CREATED_AT", "Created_At", " created_at", "created_at ", "created_at\t", "-TOTAL",
		"-created_at,total", "total,-total", "created_at DESC", "created_at asc", "--created_at", "- total",
		"+total", "total_cents", "-total_cents", "createdAt", "id", "desc",
		"－ｔｏｔａｌ",      // fullwidth hyphen-minus and letters
		"\u2212total", // the minus sign, not the hyphen-minus
		"-tоtal",      // Cyrillic о
		"total\u200d", // zero-width joiner
	}
}

// statusValues are near misses of the real states and the wildcards of
// the operators a status filter might be built with (LIKE, IN, regexps).
func statusValues() []string {
	return []string{
		"PAID", "Paid", " paid", "paid ", "paid,shipped", "paid|shipped", "paid' --", "paid'--",
		"%", "pai_", "paid%", ".*", "*", "all", "any", "!cancelled",
		"ｐａｉｄ", "pаid", "paid\u200b",
	}
}

// limitValues are numbers strconv or PostgreSQL would read differently
// from the allowlist (sign, exponent, base, padding, other digits) and the
// SQL that follows a LIMIT.
func limitValues() []string {
	return []string{
		"0", "-1", "101", "1000", "99999999999999999999", "-9223372036854775808",
		"1e2", "0x14", "+20", " 20", "20 ", "020", "20.0", "1,2",
		"２０", "٢٠", "20\u200b",
		"ALL", "NULL", "20 OFFSET 1000", "20/**/", "20--", "(SELECT 20)", "20 OR 1=1",
	}
}

// fuzzList checks that a valid control value is served, then sends every
// probe and judges the answers.
func fuzzList(ctx context.Context, t *Target, l listEndpoint, param, control string, probes []probe) (Result, error) {
	x, err := t.sendPatiently(ctx, request{method: http.MethodGet, path: l.path + "?" + control, token: l.token})
	if err != nil {
		return Result{}, err
	}
	if x.status != http.StatusOK {
		// Without a served control, a run of 400s proves nothing.
		return Result{}, fmt.Errorf("control %s?%s was not served: %s", l.path, control, x)
	}
	return judgeAll(ctx, t, l, param, probes)
}

// judgeAll sends the probes and reports EXPLOITED with every refusal that
// fell short, or BLOCKED with the counts and times.
func judgeAll(ctx context.Context, t *Target, l listEndpoint, param string, probes []probe) (Result, error) {
	var failures []string
	times := make([]time.Duration, 0, len(probes))
	var slowest *exchange
	for _, p := range probes {
		token := l.token
		if p.token != "" {
			token = p.token
		}
		x, err := t.sendPatiently(ctx, request{method: http.MethodGet, path: l.path + "?" + p.query, token: token})
		if err != nil {
			return Result{}, err
		}
		times = append(times, x.elapsed)
		if slowest == nil || x.elapsed > slowest.elapsed {
			slowest = x
		}
		if why := refusalFault(p, x); why != "" {
			failures = append(failures, fmt.Sprintf("%s: %s", why, brief(x)))
		}
	}
	mid := median(times)
	bound := max(spreadFactor*mid, spreadFloor)
	if len(failures) > 0 {
		const shown = 6
		more := ""
		if len(failures) > shown {
			more = fmt.Sprintf(" (and %d more)", len(failures)-shown)
		}
		return exploited("%d of %d payloads in %s not refused as required%s: %s",
			len(failures), len(probes), param, more, strings.Join(failures[:min(shown, len(failures))], " | "))
	}
	if slowest.elapsed > bound {
		return exploited("every payload in %s refused, but the slowest answer %s exceeds the bound %s (%d× median %s, at least %s): %s",
			param, slowest.elapsed.Round(time.Millisecond), bound, spreadFactor, mid, spreadFloor, brief(slowest))
	}
	return blocked("%d payloads in %s, every one a 400 problem+json naming the parameter in errors[].field, no SQL text in any body; "+
		"slowest %s, median %s (bounds: sleep payloads under %s, slowest under %d× median or %s)",
		len(probes), param, slowest.elapsed.Round(time.Microsecond), mid.Round(time.Microsecond), sleepBound, spreadFactor, spreadFloor)
}

// refusalFault says what is wrong with the answer to p, or "" if it is the
// refusal required: 400, problem+json, the parameter named, nothing of SQL
// in the body, and fast.
func refusalFault(p probe, x *exchange) string {
	if p.timed && x.elapsed > sleepBound {
		return fmt.Sprintf("sleep payload answered in %s (bound %s)", x.elapsed.Round(time.Millisecond), sleepBound)
	}
	if x.status != http.StatusBadRequest {
		return fmt.Sprintf("answered %d, not 400", x.status)
	}
	if ct := x.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		return fmt.Sprintf("400 as %q, not problem+json", ct)
	}
	var problem struct {
		Errors []struct {
			Field string `json:"field"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(x.body, &problem); err != nil {
		return "400 body is not JSON"
	}
	named := make([]string, 0, len(problem.Errors))
	for _, e := range problem.Errors {
		named = append(named, e.Field)
	}
	if !slices.Contains(named, p.field) {
		return fmt.Sprintf("400 names %q, not %q", named, p.field)
	}
	if m := sqlMarker(x.body, named); m != "" {
		return fmt.Sprintf("body contains %q", m)
	}
	return ""
}

// sqlMarkers only appear in a body when SQL or its driver speaks through
// it. The server never echoes a value, but it does echo a parameter's name
// (that is the point of errors[].field), so names are removed first.
func sqlMarkers() []string {
	return []string{"sqlstate", "syntax error", "pg_", "select", "union", "pq:", "pgx", `relation "`, `column "`}
}

func sqlMarker(body []byte, names []string) string {
	s := string(body)
	for _, n := range names {
		quoted, _ := json.Marshal(n)
		s = strings.ReplaceAll(s, string(quoted), `""`)
	}
	s = strings.ToLower(s)
	for _, m := range sqlMarkers() {
		if strings.Contains(s, m) {
			return m
		}
	}
	return ""
}

// sendPatiently is send that waits out a 429. The limiter answers before
// the handler runs, so a 429 says nothing about the payload; waiting keeps
// a long corpus (or a workshop run of the whole catalogue against one
// server) from turning rate limiting into a false finding.
func (t *Target) sendPatiently(ctx context.Context, r request) (*exchange, error) {
	for range 3 {
		x, err := t.send(ctx, r)
		if err != nil || x.status != http.StatusTooManyRequests {
			return x, err
		}
		wait, err := strconv.Atoi(x.header.Get("Retry-After"))
		if err != nil || wait < 1 || wait > 60 {
			return x, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting out a 429: %w", ctx.Err())
		case <-time.After(time.Duration(wait) * time.Second):
		}
	}
	return t.send(ctx, r)
}

// brief is an exchange for evidence, with the request clipped: some
// payloads are kilobytes long.
func brief(x *exchange) string {
	return fmt.Sprintf("%s %s → %d %s", x.method, clip(x.path, 140), x.status, clip(strings.TrimSpace(string(x.body)), 200))
}

// adminSortAttack sends the sort and status corpora to the staff list. It
// spans every customer's orders, so an injection there reads everything.
func adminSortAttack(ctx context.Context, t *Target) (Result, error) {
	tok, err := t.login(ctx, t.Admin)
	if err != nil {
		return Result{}, err
	}
	l := listEndpoint{path: adminOrders, token: tok.AccessToken}
	x, err := t.sendPatiently(ctx, request{method: http.MethodGet, path: adminOrders + "?sort=-total&status=paid", token: l.token})
	if err != nil {
		return Result{}, err
	}
	if x.status != http.StatusOK {
		return Result{}, fmt.Errorf("control: the staff list with a valid sort and status was not served: %s", x)
	}
	probes := corpusFor("sort", sortValues(), "total", "-total")
	sortCount := len(probes)
	probes = append(probes, corpusFor("status", statusValues(), "paid", "shipped")...)
	// The two corpora are more requests than one account's per-user burst.
	// Where the runner can make admins (the workshop console), the status
	// half speaks as a second admin of its own, so the attack does not wait
	// for its own allowance to refill; elsewhere sendPatiently waits.
	if t.NewStaff != nil {
		second := FreshAccount("admin")
		second.Staff = true
		tok2, err := t.login(ctx, second)
		if err != nil {
			return Result{}, err
		}
		for i := sortCount; i < len(probes); i++ {
			probes[i].token = tok2.AccessToken
		}
	}
	// One verdict for both parameters: each probe carries its own field.
	res, err := judgeAll(ctx, t, l, "sort and status", probes)
	if err == nil {
		res.Evidence = fmt.Sprintf("%s [%d in sort, %d in status]", res.Evidence, sortCount, len(probes)-sortCount)
	}
	return res, err
}

// listPage is the part of a list response the cursor attack reads.
type listPage struct {
	Items      []json.RawMessage `json:"items"`
	NextCursor *string           `json:"next_cursor"`
}

// firstCursor reads the next_cursor of a one-item first page.
func (t *Target) firstCursor(ctx context.Context, path, token string) (string, error) {
	x, err := t.sendPatiently(ctx, request{method: http.MethodGet, path: path + "?limit=1", token: token})
	if err != nil {
		return "", err
	}
	var page listPage
	if x.status != http.StatusOK || json.Unmarshal(x.body, &page) != nil || page.NextCursor == nil || *page.NextCursor == "" {
		return "", fmt.Errorf("control: no next_cursor on a one-item page of %s (the seed gives alice two orders and staff three): %s", path, x)
	}
	return *page.NextCursor, nil
}

// cursorAttack takes a real cursor of alice's and tries every way of making
// the server accept one it did not issue for this exact list: edited,
// re-signed, unsigned, replayed by another user, for another sort or
// filter, from the staff list, and forged outright with SQL inside. A
// cursor is the one list parameter that carries data rather than a choice
// from an allowlist, so it must be verified before any of it is read.
func cursorAttack(ctx context.Context, t *Target) (Result, error) {
	alice, err := t.login(ctx, t.Alice)
	if err != nil {
		return Result{}, err
	}
	bob, err := t.login(ctx, t.Bob)
	if err != nil {
		return Result{}, err
	}
	admin, err := t.login(ctx, t.Admin)
	if err != nil {
		return Result{}, err
	}
	bobMe, _, err := t.me(ctx, bob.AccessToken)
	if err != nil {
		return Result{}, err
	}
	// Alice's two orders make a second page, so a cursor is issued.
	if _, err := t.holdings(ctx); err != nil {
		return Result{}, err
	}
	issued, err := t.firstCursor(ctx, customerOrders, alice.AccessToken)
	if err != nil {
		return Result{}, err
	}
	staff, err := t.firstCursor(ctx, adminOrders, admin.AccessToken)
	if err != nil {
		return Result{}, err
	}
	x, err := t.sendPatiently(ctx, request{method: http.MethodGet, path: customerOrders + "?limit=1&cursor=" + url.QueryEscape(issued), token: alice.AccessToken})
	if err != nil {
		return Result{}, err
	}
	if x.status != http.StatusOK {
		return Result{}, fmt.Errorf("control: alice's own cursor was not served back to her: %s", x)
	}

	probes := corpusFor("cursor", nil, issued, issued)
	probes = append(probes, forgedCursors(issued, bobMe.ID, bob.AccessToken, staff)...)
	for _, sql := range []string{
		"1|owner:x|-created_at||0 OR 1=1|00000000-0000-0000-0000-000000000000",
		"' OR '1'='1",
		"created_at;DROP TABLE orders--",
		"(SELECT pg_sleep(2))",
		"' UNION SELECT password_hash FROM users--",
	} {
		// Base64url is what a cursor looks like, so a decoder that trusts
		// the shape would hand the SQL inside straight on.
		enc := base64.RawURLEncoding.EncodeToString([]byte(sql))
		probes = append(probes, encodedProbe("cursor", enc), encodedProbe("cursor", enc+"."+enc))
	}
	return judgeAll(ctx, t, listEndpoint{path: customerOrders, token: alice.AccessToken}, "cursor", probes)
}

// forgedCursors derives hostile cursors from a real one. The payload is
// only base64url, so the attacker can read it (version, scope, sort,
// status, key, id) and edit it; only the MAC stands in the way.
func forgedCursors(issued, bobID, bobToken, staff string) []probe {
	payload, mac, _ := strings.Cut(issued, ".")
	decoded, _ := base64.RawURLEncoding.DecodeString(payload)
	fields := strings.Split(string(decoded), "|")
	edit := func(i int, v string) string {
		f := slices.Clone(fields)
		if i < len(f) {
			f[i] = v
		}
		return base64.RawURLEncoding.EncodeToString([]byte(strings.Join(f, "|")))
	}
	randomMAC := make([]byte, 32)
	_, _ = rand.Read(randomMAC)
	with := func(extra, cursor string) probe {
		return probe{query: extra + "cursor=" + url.QueryEscape(cursor), field: "cursor"}
	}
	asBob := func(p probe) probe {
		p.token = bobToken
		return p
	}
	return []probe{
		with("limit=1&", flipOne(payload)+"."+mac),
		with("limit=1&", payload+"."+flipOne(mac)),
		with("limit=1&", payload+"."+base64.RawURLEncoding.EncodeToString(randomMAC)),
		with("limit=1&", payload+"."),
		with("limit=1&", payload),
		with("limit=1&", "."+mac),
		// Another user replays alice's cursor (from a shared link, a log):
		// the scope binds it to her. Rewriting the scope to his own
		// breaks the MAC.
		asBob(with("limit=1&", issued)),
		asBob(with("limit=1&", edit(1, "owner:"+bobID)+"."+mac)),
		// The same cursor for another list of alice's: sort and filter
		// are inside the MAC, so a key for one order is never read as a
		// key for another.
		with("limit=1&sort=total&", issued),
		with("limit=1&sort=created_at&", issued),
		with("limit=1&status=paid&", issued),
		// Edited payload, original MAC: the key replaced by SQL, the sort
		// changed.
		with("limit=1&", edit(4, "0 OR 1=1")+"."+mac),
		with("limit=1&", edit(4, "(SELECT pg_sleep(2))")+"."+mac).sleeps(),
		with("limit=1&", edit(5, "' OR '1'='1")+"."+mac),
		with("limit=1&sort=total&", edit(2, "total")+"."+mac),
		// The staff list's cursor on the customer list.
		with("limit=1&", staff),
		// Padded past the length a cursor can have.
		with("limit=1&", issued+strings.Repeat("A", 600)),
	}
}

// flipOne changes one character in the middle of a base64url string to
// another base64url character, so it still decodes but to other bytes.
func flipOne(s string) string {
	if s == "" {
		return "A"
	}
	b := []byte(s)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}
