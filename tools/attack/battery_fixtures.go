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

	"github.com/getkin/kin-openapi/openapi3"
)

// The valid requests the battery starts from. A valid body comes from the
// demo service's own recipes below, keyed by operationId, because a valid
// order names a product that exists and a refresh names a token that was
// issued, which a schema cannot say; for any other operation (a fork's new
// one) it is derived from the schema. A path parameter's value is created
// through the operation that links to it; a required query parameter's
// value is taken from a link the server handed out (a signed download
// link), or derived from its schema.

// purpose says what a body is for.
type purpose int

const (
	// forSuccess: a request that must succeed, once.
	forSuccess purpose = iota
	// forProbe: the base a case mutates or re-sends with a bad token; if
	// the server wrongly accepted it, it should do no lasting harm.
	forProbe
	// forForgery: a request refused for its credentials or its method
	// whatever its body; it is the valid request where the battery can
	// make one without what the run may lack (a payment event paying its
	// order's exact total, so a server that skipped the signature check
	// would act on it), and needs neither the webhook secret nor the
	// import URL.
	forForgery
)

// demoBody is the demo service's valid body for an operation, or nil.
func (b *battery) demoBody(o *operation, p purpose) map[string]any {
	b.nonce++
	n := fmt.Sprintf("%d%04d", time.Now().Unix()%100000, b.nonce)
	switch o.id {
	case "register":
		return map[string]any{"email": "battery-" + n + "@example.com", "password": "battery-password-" + n, "name": "Battery " + n}
	case "login":
		// Bob's right password: a probe the server wrongly accepted only
		// signs bob in, and no probe counts as a failed login for him.
		return map[string]any{"email": b.t.Bob.Email, "password": b.t.Bob.Password}
	case "refresh", "logout":
		if p == forSuccess && b.refresh != "" {
			return map[string]any{"refresh_token": b.refresh}
		}
		// A well-formed token that was never issued: a probe the server
		// wrongly accepted answers 401, never a session.
		return map[string]any{"refresh_token": "rt_" + randomToken(32)}
	case "updateMe":
		// The success case renames alice to her own name, changing
		// nothing; a probe's new name is what a read-back would show if a
		// refused request wrote anyway.
		if p == forSuccess {
			return map[string]any{"name": b.alice.me.Name}
		}
		return map[string]any{"name": "Battery " + n}
	case "createOrder":
		return map[string]any{
			"items":            []any{map[string]any{"product_id": productKeyboard, "quantity": 1}},
			"shipping_address": validAddress(),
			"note":             "battery " + n,
		}
	case "updateOrder":
		return map[string]any{"note": "battery " + n, "shipping_address": validAddress()}
	case "adminUpdateOrder":
		return map[string]any{"internal_note": "battery " + n}
	case "importFile":
		// A URL the server under test may fetch (BatteryOptions.ImportURL,
		// -import-url); validCall skips the operation without one.
		return map[string]any{"url": b.opts.ImportURL}
	case "paymentWebhook":
		// The provider's event for the order webhookCall chose, with a
		// fresh event id (each id is acted on once).
		return webhookEventBody(b.paying.id, b.paying.cents, b.paying.currency)
	case "changePassword":
		return map[string]any{"current_password": b.sessionsAccount["changePassword"].Password, "new_password": "battery-new-password-" + n}
	case "adminCreateCoupon":
		// Expiring within the year the server allows.
		return map[string]any{"percent_off": 10, "max_redemptions": 100, "expires_at": time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)}
	case "enrollMFA":
		// The password of the run's own account (ownAccount): the success
		// case enrols it a second factor, whose secret the answer carries
		// (learn).
		return map[string]any{"password": b.sessionsAccount["mfa"].Password}
	case "confirmMFA", "stepUp":
		// A code of the secret enrolled above: the confirmation takes the
		// current step's, the step-up the next one's (a step is accepted
		// once, and the one after the current one early). A probe sends a
		// code that no secret yields at will.
		if p == forSuccess && b.mfaSecret != "" {
			at := time.Now()
			if o.id == "stepUp" {
				at = at.Add(30 * time.Second)
			}
			if code, err := TOTPCode(b.mfaSecret, at); err == nil {
				return map[string]any{"code": code}
			}
		}
		return map[string]any{"code": "000000"}
	}
	return nil
}

// successRank orders the success cases where one hands the next what it
// needs: login's refresh token is rotated by refresh and revoked by
// logout. Operations with a required query parameter come last, so the
// links that carry its value (a signed download link) have been seen.
func successOrder(ops []*operation) []*operation {
	rank := func(o *operation) int {
		switch o.id {
		case "login":
			return 1
		case "refresh":
			return 2
		case "logout":
			return 3
		// Enrol, confirm, then step up, after everything else: each needs
		// the one before.
		case "enrollMFA":
			return 5
		case "confirmMFA":
			return 6
		case "stepUp":
			return 7
		}
		for _, p := range o.queryParams() {
			if p.Required {
				return 4
			}
		}
		return 0
	}
	out := slices.Clone(ops)
	slices.SortStableFunc(out, func(a, b *operation) int { return rank(a) - rank(b) })
	return out
}

// bodyFor is the JSON body of a valid request to o, as a map.
func (b *battery) bodyFor(o *operation, p purpose) map[string]any {
	if body := b.demoBody(o, p); body != nil {
		return body
	}
	b.nonce++
	v, _ := sample(o.body, b.nonce, 0).(map[string]any)
	return v
}

// validCall is a valid request to o as the principal its policy calls
// for: alice, or admin on a staff route, or nobody on a public one. Its
// {id} names alice's shared resource, or a fresh one (for the success case
// of a write, which may consume it).
func (b *battery) validCall(ctx context.Context, o *operation, fresh bool, p purpose) (call, error) {
	switch {
	case signedWebhook(o.policy):
		return b.webhookCall(ctx, o, fresh, p)
	case o.id == "importFile" && b.opts.ImportURL == "" && p != forForgery:
		return call{}, errNoImportURL
	}
	c := call{o: o, as: b.principalForOp(o), path: map[string]string{}}
	for _, param := range o.pathParams() {
		v, err := b.resource(ctx, o, param.Name, fresh)
		if err != nil {
			return call{}, err
		}
		c.path[param.Name] = v
	}
	if o.id == "adminRefundOrder" && p == forSuccess {
		// Only a paid order can be refunded: staff mark the fresh order
		// paid first, through their own route.
		if err := b.markPaid(ctx, c.path); err != nil {
			return call{}, err
		}
	}
	c.query = b.requiredQuery(o, "").Encode()
	switch {
	case o.body != nil:
		body, err := json.Marshal(b.bodyFor(o, p))
		if err != nil {
			return call{}, fmt.Errorf("encode a body for %s: %w", o, err)
		}
		c.body = string(body)
	case o.form != nil:
		body, ctype, err := formFor(o.form)
		if err != nil {
			return call{}, err
		}
		c.body, c.ctype = body, ctype
	}
	return c, nil
}

// ownAccount is the key of the run's own account (b.sessions) an
// operation runs as, or "" for the principal its policy calls for. The
// operations that end the caller's sessions would sign alice out of every
// later case, so they run as an account of their own each; the second
// factor's would leave an account needing a code to sign in, so they run
// as one account of their own, together, since each needs the one before.
func ownAccount(o *operation) string {
	switch o.id {
	case "logoutAll", "changePassword":
		return o.id
	case "enrollMFA", "confirmMFA", "stepUp":
		return "mfa"
	}
	return ""
}

// endsSessions are the operations whose success ends the caller's
// sessions: they succeed last of all.
func endsSessions(o *operation) bool { return o.id == "logoutAll" || o.id == "changePassword" }

func (b *battery) principalForOp(o *operation) *principal {
	if key := ownAccount(o); key != "" {
		if p, ok := b.sessions[key]; ok {
			return p
		}
		return &principal{name: "nobody (no account of the run's own)"}
	}
	return b.principalFor(o.policy)
}

// markPaid moves the order in path to paid as staff (adminUpdateOrder),
// when the document has that operation.
func (b *battery) markPaid(ctx context.Context, path map[string]string) error {
	update, ok := b.byID["adminUpdateOrder"]
	if !ok {
		return nil
	}
	x, err := b.send(ctx, call{o: update, as: &b.admin, path: path, body: `{"status":"paid"}`})
	if err != nil {
		return err
	}
	if x.status/100 != 2 {
		return fmt.Errorf("mark the order paid before its refund: %s", brief(x))
	}
	return nil
}

func (b *battery) principalFor(policy string) *principal {
	switch {
	case !needsToken(policy):
		return nil
	case staffOnly(policy):
		return &b.admin
	}
	return &b.alice
}

// resource is the value of o's path parameter name: the id of a resource
// alice created through the operation that links to it (shared, or fresh).
// A parameter no operation links to gets a random id, and the contract
// case reports the missing link.
func (b *battery) resource(ctx context.Context, o *operation, name string, fresh bool) (string, error) {
	cr, ok := o.creators[name]
	if !ok {
		return randomUUID(), nil
	}
	body, ok := b.shared[cr.op]
	if fresh || !ok {
		maker := b.byID[cr.op]
		c, err := b.validCall(ctx, maker, false, forSuccess)
		if err != nil {
			return "", err
		}
		x, err := b.send(ctx, c)
		if err != nil {
			return "", err
		}
		if x.status/100 != 2 || json.Unmarshal(x.body, &body) != nil {
			return "", fmt.Errorf("control: could not create the resource %s names through %s: %s", name, maker.id, brief(x))
		}
		if !fresh {
			b.shared[cr.op] = body
		}
	}
	v, ok := pointerValue(body, cr.pointer)
	if !ok {
		return "", fmt.Errorf("the answer of %s has no string at %s for %s's %s", cr.op, cr.pointer, o.id, name)
	}
	return v, nil
}

// requiredQuery is a value for each required query parameter of o but
// skip: one the server handed out in a link, else one from its schema.
func (b *battery) requiredQuery(o *operation, skip string) url.Values {
	q := url.Values{}
	for _, p := range o.queryParams() {
		if !p.Required || p.Name == skip {
			continue
		}
		if v, ok := o.seen[p.Name]; ok {
			q.Set(p.Name, v)
			continue
		}
		var s *openapi3.Schema
		if p.Schema != nil {
			s = p.Schema.Value
		}
		q.Set(p.Name, scalar(sample(s, 1, 0)))
	}
	return q
}

// learn reads what a success answer teaches: the route's rate-limit quota
// (RateLimit-Policy: "name";q=10;w=60), a refresh token to pass on, and
// links to documented operations with their query values (a signed
// download link), which become the required values of that operation.
func (b *battery) learn(o *operation, x *exchange) {
	for part := range strings.SplitSeq(x.header.Get("RateLimit-Policy"), ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "q="); ok {
			if q, err := strconv.Atoi(v); err == nil && (o.quota == 0 || q < o.quota) {
				o.quota = q
			}
		}
	}
	var v any
	if json.Unmarshal(x.body, &v) != nil {
		return
	}
	if m, ok := v.(map[string]any); ok {
		if rt, ok := m["refresh_token"].(string); ok {
			b.refresh = rt
		}
		if secret, ok := m["secret"].(string); ok && o.id == "enrollMFA" {
			b.mfaSecret = secret
		}
	}
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			b.learnLink(v)
		case map[string]any:
			for _, child := range v {
				walk(child)
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(v)
}

func (b *battery) learnLink(s string) {
	u, err := url.Parse(s)
	if err != nil || u.RawQuery == "" || !strings.HasPrefix(u.Path, "/") {
		return
	}
	for _, o := range b.ops {
		if o.method == http.MethodGet && len(o.pathParams()) == 0 && o.path == u.Path {
			o.seen = map[string]string{}
			for name, values := range u.Query() {
				o.seen[name] = values[0]
			}
		}
	}
}

// pointerValue reads a JSON pointer (/id, /items/0/id) as a string.
func pointerValue(v any, pointer string) (string, bool) {
	for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch node := v.(type) {
		case map[string]any:
			v = node[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(node) {
				return "", false
			}
			v = node[i]
		default:
			return "", false
		}
	}
	switch v := v.(type) {
	case string:
		return v, v != ""
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	}
	return "", false
}

// sample derives a valid-looking value from a schema: its const, example,
// default or first enum value, else a value of its type within its
// bounds. Patterns are not inverted; a fork whose operation needs a
// patterned value gives it an example.
func sample(s *openapi3.Schema, n, depth int) any {
	if s == nil || depth > 6 {
		return "battery"
	}
	switch {
	case s.Const != nil:
		return s.Const
	case s.Example != nil:
		return s.Example
	case s.Default != nil:
		return s.Default
	case len(s.Enum) > 0:
		return s.Enum[0]
	}
	for _, list := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
		if len(list) > 0 && list[0].Value != nil {
			return sample(list[0].Value, n, depth+1)
		}
	}
	switch schemaType(s) {
	case openapi3.TypeObject:
		out := map[string]any{}
		for name, p := range s.Properties {
			if p.Value != nil && !p.Value.ReadOnly {
				out[name] = sample(p.Value, n, depth+1)
			}
		}
		return out
	case openapi3.TypeArray:
		var item any = "battery"
		if s.Items != nil {
			item = sample(s.Items.Value, n, depth+1)
		}
		out := []any{item}
		for uint64(len(out)) < s.MinItems {
			out = append(out, item)
		}
		return out
	case openapi3.TypeInteger, openapi3.TypeNumber:
		v := 1.0
		if s.Min != nil {
			v = *s.Min
		}
		if s.Max != nil && v > *s.Max {
			v = *s.Max
		}
		return v
	case openapi3.TypeBoolean:
		return true
	}
	switch s.Format {
	case "email":
		return fmt.Sprintf("battery-%d@example.com", n)
	case "uuid":
		return randomUUID()
	case "date-time":
		return time.Now().UTC().Format(time.RFC3339)
	case "uri", "uri-reference":
		return "https://example.com/battery"
	}
	v := "battery"
	if s.Format == "password" {
		v = "battery-password-" + strconv.Itoa(n)
	}
	for uint64(len(v)) < s.MinLength {
		v += "x"
	}
	if s.MaxLength != nil && uint64(len(v)) > *s.MaxLength {
		v = v[:*s.MaxLength]
	}
	return v
}

// schemaType is the schema's one non-null type, or "".
func schemaType(s *openapi3.Schema) string {
	if s == nil || s.Type == nil {
		return ""
	}
	for _, t := range *s.Type {
		if t != openapi3.TypeNull {
			return t
		}
	}
	return ""
}

// scalar writes a sampled value as a query or path value.
func scalar(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// formFor builds a multipart body from a form schema: one part, a small
// text file in its first file field, which is what an upload takes. A
// form that also needs other fields is refused, and its success case says
// the route's answers are untested.
func formFor(s *openapi3.Schema) (body, ctype string, err error) {
	for _, name := range sortedProps(s) {
		p := s.Properties[name]
		if p.Value != nil && (p.Value.Format == "binary" || p.Value.ContentMediaType != "" || p.Value.Format == "byte") {
			return multipartFile(fmt.Sprintf(`form-data; name=%q; filename="battery.txt"`, name), "text/plain", "battery file\n")
		}
	}
	return "", "", fmt.Errorf("the battery knows no way to fill this form: it has no file field")
}

func randomUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := fmt.Sprintf("%x", b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
