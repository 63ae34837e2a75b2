package attack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// Nested validation (docs/07-nested-validation.md; OWASP API8:2023 and
// CWE-20, CWE-79): values deep inside the order body reach staff screens,
// so every level is validated, with sizes and allowed characters.
func validationAttacks() []Attack {
	return []Attack{
		{
			ID: "validation/markup-in-address", Issue: "validation", OWASP: "API8:2023", CWE: "CWE-79",
			Story: "Store script tags, event handlers, javascript: URLs and invisible characters in address fields.",
			Run:   markupInAddress,
		},
		{
			ID: "validation/nested-bounds", Issue: "validation", OWASP: "API4:2023", CWE: "CWE-20",
			Story: "Send oversize arrays and strings, zero and huge quantities, unknown nested fields.",
			Run:   nestedBounds,
		},
		{
			ID: "validation/note-served-as-json", Issue: "validation", OWASP: "API8:2023", CWE: "CWE-79",
			Story: "A note with markup is stored as given and only ever served as JSON text, never as a page.",
			Run:   noteAsJSON,
		},
		{
			ID: "validation/top-level-bounds", Issue: "validation", OWASP: "API4:2023", CWE: "CWE-20",
			Story: "Basic: a 1001-character note and 51 items, bounds on the order's own top-level fields.",
			Run:   topLevelBounds,
		},
		{
			ID: "validation/dashboard-csp", Issue: "validation", OWASP: "API8:2023", CWE: "CWE-79",
			Story: "Read the staff dashboard's Content-Security-Policy: would a stored payload that reached the page be allowed to run?",
			Run:   dashboardCSP,
		},
	}
}

type badOrder struct {
	field string // the JSON path the 400 must name
	body  map[string]any
}

// orderWith returns a valid order body changed by edit.
func orderWith(edit func(o map[string]any)) map[string]any {
	o := map[string]any{
		"items":            []any{map[string]any{"product_id": productKeyboard, "quantity": 1}},
		"shipping_address": validAddress(),
		"note":             "",
	}
	edit(o)
	return o
}

func withAddress(field, value string) map[string]any {
	return orderWith(func(o map[string]any) {
		a := validAddress()
		a[field] = value
		o["shipping_address"] = a
	})
}

func markupInAddress(ctx context.Context, t *Target) (Result, error) {
	payloads := []string{
		`<script>alert(1)</script>`,
		`"><img src=x onerror=alert(1)>`,
		`<svg onload=alert(1)>`,
		`javascript:alert(1)`,
		`Main St<ScRiPt>alert(1)</sCrIpT>`,
		"Main St\u202egnp.exe",
		"Main\u200bSt",
		"Main St\x00",
		"Main St\r\nX-Injected: 1",
		`{{constructor.constructor('alert(1)')()}}`,
		"Main St`;alert(1)//",
	}
	var cases []badOrder
	for _, p := range payloads {
		for _, f := range []string{"name", "line1", "city"} {
			cases = append(cases, badOrder{"shipping_address." + f, withAddress(f, p)})
		}
	}
	cases = append(cases,
		badOrder{"shipping_address.postal_code", withAddress("postal_code", "<b>1</b>")},
		badOrder{"shipping_address.country", withAddress("country", "<s")},
	)
	return expectRejected(ctx, t, cases)
}

func nestedBounds(ctx context.Context, t *Target) (Result, error) {
	many := make([]any, 51)
	for i := range many {
		many[i] = map[string]any{"product_id": fmt.Sprintf("9e000000-0000-4000-8000-%012d", i+1), "quantity": 1}
	}
	cases := []badOrder{
		{"items", orderWith(func(o map[string]any) { o["items"] = many })},
		{"items", orderWith(func(o map[string]any) { o["items"] = []any{} })},
		{"items[0].quantity", orderWith(func(o map[string]any) {
			o["items"] = []any{map[string]any{"product_id": productKeyboard, "quantity": 0}}
		})},
		{"items[0].quantity", orderWith(func(o map[string]any) {
			o["items"] = []any{map[string]any{"product_id": productKeyboard, "quantity": 1001}}
		})},
		{"items[0].quantity", orderWith(func(o map[string]any) {
			o["items"] = []any{map[string]any{"product_id": productKeyboard, "quantity": -5}}
		})},
		{"items[0].quantity", orderWith(func(o map[string]any) {
			o["items"] = []any{map[string]any{"product_id": productKeyboard, "quantity": 1e30}}
		})},
		{"items[0].product_id", orderWith(func(o map[string]any) { o["items"] = []any{map[string]any{"product_id": "' OR 1=1--", "quantity": 1}} })},
		{"items[0].price", orderWith(func(o map[string]any) {
			o["items"] = []any{map[string]any{"product_id": productKeyboard, "quantity": 1, "price": 1}}
		})},
		{"shipping_address.is_admin", orderWith(func(o map[string]any) {
			a := validAddress()
			a["is_admin"] = true
			o["shipping_address"] = a
		})},
		{"shipping_address.line1", withAddress("line1", strings.Repeat("A", 201))},
		{"shipping_address", orderWith(func(o map[string]any) { delete(o, "shipping_address") })},
		{"note", orderWith(func(o map[string]any) { o["note"] = strings.Repeat("n", 1001) })},
		{"note", orderWith(func(o map[string]any) { o["note"] = "bell\x07" })},
		{"items", orderWith(func(o map[string]any) { // the same product twice
			o["items"] = []any{map[string]any{"product_id": productKeyboard, "quantity": 1}, map[string]any{"product_id": productKeyboard, "quantity": 2}}
		})},
	}
	return expectRejected(ctx, t, cases)
}

// expectRejected posts each bad order as alice: each must be a 400 whose
// errors name the field, and none may create an order.
func expectRejected(ctx context.Context, t *Target, cases []badOrder) (Result, error) {
	tok, err := t.login(ctx, t.Alice)
	if err != nil {
		return Result{}, err
	}
	before, _, err := t.listOrderIDs(ctx, tok.AccessToken, "?limit=100")
	if err != nil {
		return Result{}, err
	}
	for _, c := range cases {
		b, _ := json.Marshal(c.body)
		x, err := t.send(ctx, request{method: http.MethodPost, path: "/api/v1/orders", body: string(b), token: tok.AccessToken})
		if err != nil {
			return Result{}, err
		}
		if x.status != http.StatusBadRequest {
			return exploited("%s: answered %d, not 400: %s", c.field, x.status, x)
		}
		if !namesField(x.body, c.field) {
			return exploited("400 does not name %s: %s", c.field, x)
		}
	}
	after, _, err := t.listOrderIDs(ctx, tok.AccessToken, "?limit=100")
	if err != nil {
		return Result{}, err
	}
	if len(after) != len(before) {
		return exploited("%d orders created by rejected requests", len(after)-len(before))
	}
	return blocked("%d hostile nested values, each a 400 naming its field path, nothing stored", len(cases))
}

func namesField(body []byte, field string) bool {
	var p struct {
		Errors []struct {
			Field string `json:"field"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return false
	}
	for _, e := range p.Errors {
		if e.Field == field {
			return true
		}
	}
	return false
}

func noteAsJSON(ctx context.Context, t *Target) (Result, error) {
	tok, err := t.login(ctx, t.Alice)
	if err != nil {
		return Result{}, err
	}
	note := `<script>document.title='pwned'</script><img src=x onerror=alert(1)>`
	o, err := t.createOrder(ctx, tok.AccessToken, note)
	if err != nil {
		return Result{}, err
	}
	got, x, err := t.getOrder(ctx, tok.AccessToken, o.ID)
	if err != nil {
		return Result{}, err
	}
	ct := x.header.Get("Content-Type")
	switch {
	case got.Note != note:
		return Result{}, fmt.Errorf("note not stored as given: %q", got.Note)
	case !strings.HasPrefix(ct, "application/json"):
		return exploited("served as %q", ct)
	case x.header.Get("X-Content-Type-Options") != "nosniff":
		return exploited("no nosniff: a browser may sniff the JSON as HTML")
	case strings.Contains(string(x.body), "<script>"):
		return exploited("raw markup in the JSON bytes (not escaped): %s", x)
	}
	return blocked("stored as given, served as %s with nosniff and the markup escaped in the JSON", ct)
}

// topLevelBounds is the basic attack: only the order's own fields are out
// of bounds, so a binder that validates the top level and never descends
// into nested values still refuses it. markup-in-address and nested-bounds
// are the bypass: the same binder lets their nested values through.
func topLevelBounds(ctx context.Context, t *Target) (Result, error) {
	many := make([]any, 51)
	for i := range many {
		many[i] = map[string]any{"product_id": fmt.Sprintf("9e000000-0000-4000-8000-%012d", i+1), "quantity": 1}
	}
	return expectRejected(ctx, t, []badOrder{
		{"note", orderWith(func(o map[string]any) { o["note"] = strings.Repeat("n", 1001) })},
		{"items", orderWith(func(o map[string]any) { o["items"] = many })},
	})
}

// dashboardCSP checks the policy of the staff dashboard (GET /admin/), the
// page that shows customer text to staff. Rendering as text is what keeps
// a payload from becoming markup; the CSP is what stops markup from
// running if rendering ever fails. Only the response headers and the page
// itself are read: that a payload does not run is proven in a real browser
// (TestDashboardStoredXSS, tests/dashboard_test.go).
func dashboardCSP(ctx context.Context, t *Target) (Result, error) {
	x, err := t.send(ctx, request{method: http.MethodGet, path: "/admin/"})
	if err != nil {
		return Result{}, err
	}
	if x.status != http.StatusOK || !strings.HasPrefix(x.header.Get("Content-Type"), "text/html") {
		return Result{}, fmt.Errorf("no dashboard page: %s", x)
	}
	policy := x.header.Get("Content-Security-Policy")
	csp := parseCSP(policy)
	// A directive that is absent falls back to default-src.
	sources := func(name string) string {
		if v, ok := csp[name]; ok {
			return v
		}
		return csp["default-src"]
	}
	switch {
	case policy == "":
		return exploited("GET /admin/ sends no Content-Security-Policy: any markup that reaches the page may run script")
	case strings.Contains(policy, "'unsafe-"):
		return exploited("the dashboard's CSP allows 'unsafe-…', so injected inline script or event handlers run: %s", policy)
	case sources("script-src") != "'self'":
		return exploited("script-src is %q, not only 'self': %s", sources("script-src"), policy)
	case sources("object-src") != "'none'":
		return exploited("object-src is %q, not 'none': %s", sources("object-src"), policy)
	case csp["base-uri"] != "'none'":
		return exploited("base-uri is %q, not 'none': a <base> could re-point the page's scripts: %s", csp["base-uri"], policy)
	case csp["frame-ancestors"] != "'none'":
		return exploited("frame-ancestors is %q, not 'none': the dashboard can be framed: %s", csp["frame-ancestors"], policy)
	}
	// A page that needs inline script cannot keep that policy for long:
	// someone adds 'unsafe-inline' to make it work.
	scriptTag := regexp.MustCompile(`(?i)<script\b[^>]*>`)
	inlineHandler := regexp.MustCompile(`(?i)<[a-z][^>]*\son[a-z]+\s*=`)
	for _, tag := range scriptTag.FindAllString(string(x.body), -1) {
		if !strings.Contains(tag, "src=") {
			return exploited("the dashboard page has an inline script: %s", tag)
		}
	}
	if m := inlineHandler.FindString(string(x.body)); m != "" {
		return exploited("the dashboard page has an inline event handler: %s", m)
	}
	return blocked("GET /admin/: script-src 'self' with no 'unsafe-*', object-src, base-uri and frame-ancestors 'none', no inline script in the page (require-trusted-types-for: %q)", csp["require-trusted-types-for"])
}

// parseCSP maps each directive of a policy to its sources, lower-cased
// names, sources joined by one space.
func parseCSP(policy string) map[string]string {
	out := map[string]string{}
	for d := range strings.SplitSeq(policy, ";") {
		f := strings.Fields(d)
		if len(f) == 0 {
			continue
		}
		name := strings.ToLower(f[0])
		if _, seen := out[name]; !seen { // browsers ignore a repeated directive
			out[name] = strings.Join(f[1:], " ")
		}
	}
	return out
}
