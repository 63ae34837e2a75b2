package attack

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The case families of the battery, each derived from one operation of the
// document (the inventory cases from its paths as a whole).

// contractCase: the document says who may call the operation, closes every
// object of its schemas, and links each {id} it takes to the operation that
// creates it. It sends nothing.
func (b *battery) contractCase(o *operation) batteryCase {
	return batteryCase{row: o.id, name: "contract/declared", run: func(context.Context) caseOutcome {
		switch {
		case o.policy == "":
			return cannot("the document does not say who may call %s: add %s with the route's policy from internal/app/routes.go", o, policyExtension)
		case !knownPolicy(o.policy):
			return cannot("%s is %s %q, a policy the battery does not know", o, policyExtension, o.policy)
		}
		var missing []string
		for _, p := range o.pathParams() {
			if _, ok := o.creators[p.Name]; !ok {
				missing = append(missing, "{"+p.Name+"}")
			}
		}
		if len(missing) > 0 {
			return cannot("no success answer links to %s with %s, so the battery cannot create the resource it acts on: add links to the creating operation's answer",
				o, strings.Join(missing, ", "))
		}
		open, tolerated := o.unexcusedOpen(), ""
		if len(open) < len(o.open) {
			tolerated = " (the provider's event is declared open, read tolerantly)"
		}
		if len(open) > 0 {
			return fail("the document leaves objects open, so a field it does not list would pass unnoticed: %s", strings.Join(open, ", "))
		}
		return pass("policy %s, every object of its schemas closed%s, every {id} linked from its creator", o.policy, tolerated)
	}}
}

// successCase: a valid request succeeds, and its answer matches the
// document with no forbidden field. It also teaches the battery the
// route's rate limit and the links in the answer.
func (b *battery) successCase(o *operation) batteryCase {
	return batteryCase{row: o.id, name: "success/valid-request", run: func(ctx context.Context) caseOutcome {
		// A write may consume what it acts on (cancel, delete): it gets a
		// resource of its own.
		c, err := b.validCall(ctx, o, o.method != http.MethodGet, forSuccess)
		if err != nil {
			return unable(err)
		}
		x, err := b.send(ctx, c)
		if err != nil {
			return cannot("%v", err)
		}
		b.learn(o, x)
		if x.status/100 != 2 {
			return cannot("a valid request was refused, so this route's answers are untested: %s", brief(x))
		}
		if msg := b.verify(ctx, c, x); msg != "" {
			return fail("%s: %s", msg, brief(x))
		}
		if signedWebhook(o.policy) {
			if msg := b.webhookProcessed(ctx, c, x); msg != "" {
				return fail("%s: %s", msg, brief(x))
			}
		}
		return pass("%d as documented, no forbidden field", x.status)
	}}
}

// authCases: every route that needs a token answers 401 to no token and to
// each kind of bad one, before it does anything.
func (b *battery) authCases(o *operation) []batteryCase {
	if !needsToken(o.policy) {
		return nil
	}
	forged := []struct {
		name  string
		token func() (string, error)
	}{
		{"no-token", func() (string, error) { return "", nil }},
		{"malformed-token", func() (string, error) { return "battery.not-a.jwt", nil }},
		{"expired-token", b.expiredToken},
		{"wrongly-signed-token", func() (string, error) {
			valid := b.alice.token
			return encode(header(valid), claimsOf(valid), sha256.New, "battery-attacker-chosen-key-0123456789"), nil
		}},
		{"alg-none-token", func() (string, error) {
			h := header(b.alice.token)
			h["alg"] = "none"
			return encode(h, claimsOf(b.alice.token), nil, ""), nil
		}},
	}
	cases := make([]batteryCase, 0, len(forged))
	for _, f := range forged {
		cases = append(cases, batteryCase{row: o.id, name: "auth/" + f.name, scarce: b.scarce(o), run: func(ctx context.Context) caseOutcome {
			token, err := f.token()
			if errors.Is(err, errSkip) {
				return skip("needs the server's signing key to sign the token (-signing-key)")
			}
			if err != nil {
				return cannot("%v", err)
			}
			c, err := b.validCall(ctx, o, false, forProbe)
			if err != nil {
				return unable(err)
			}
			c.as, c.token = nil, token
			x, err := b.send(ctx, c)
			if err != nil {
				return cannot("%v", err)
			}
			if msg := b.verify(ctx, c, x); msg != "" {
				return fail("%s: %s", msg, brief(x))
			}
			if x.status != http.StatusUnauthorized {
				return fail("answered %d, not 401: %s", x.status, brief(x))
			}
			return pass("401")
		}})
	}
	return cases
}

// expiredToken is alice's token, expired an hour ago and correctly signed:
// only a server that checks exp refuses it.
func (b *battery) expiredToken() (string, error) {
	if b.t.SigningKey == nil {
		return "", errSkip
	}
	claims := claimsOf(b.alice.token)
	past := time.Now().Add(-time.Hour)
	claims["exp"] = past.Unix()
	claims["iat"] = past.Add(-10 * time.Minute).Unix()
	claims["nbf"] = claims["iat"]
	return encode(header(b.alice.token), claims, sha256.New, string(b.t.SigningKey)), nil
}

// ownerCases: bob asks for alice's resource with the operation's method,
// as created and with the id upper-cased. Each must be the same 404 as his
// request for a random id that does not exist (status and problem body),
// and alice must read her resource back unchanged.
func (b *battery) ownerCases(o *operation) []batteryCase {
	if !ownerScoped(o.policy) || len(o.creators) == 0 {
		return nil
	}
	var missing *exchange // bob's request for a random id, made once for both cases
	variant := func(name string, ids func(string) string) batteryCase {
		return batteryCase{row: o.id, name: "owner/" + name, run: func(ctx context.Context) caseOutcome {
			c, err := b.validCall(ctx, o, false, forProbe)
			if err != nil {
				return unable(err)
			}
			c.as = &b.bob
			if missing == nil {
				m := c.with(func(m *call) {
					for name := range o.creators {
						m.path[name] = randomUUID()
					}
				})
				x, err := b.send(ctx, m)
				if err != nil {
					return cannot("%v", err)
				}
				if msg := b.verify(ctx, m, x); msg != "" {
					return fail("a missing id: %s: %s", msg, brief(x))
				}
				missing = x
			}
			attack := c.with(func(a *call) {
				for name := range o.creators {
					a.path[name] = ids(a.path[name])
				}
			})
			return b.refusedWrite(ctx, attack, func(x *exchange) string {
				switch {
				case x.status != http.StatusNotFound:
					return fmt.Sprintf("bob asked for alice's resource and got %d, not 404", x.status)
				case !sameAnswer(x, missing):
					return fmt.Sprintf("alice's id answers %d %s, a missing one %d %s: bob can tell which ids exist",
						x.status, clip(normalizeProblem(x.body), 160), missing.status, clip(normalizeProblem(missing.body), 160))
				}
				return ""
			})
		}}
	}
	return []batteryCase{
		variant("other-customer", func(id string) string { return id }),
		variant("other-customer-upper-case-id", strings.ToUpper),
	}
}

// staffCases: a staff route refuses each customer with 403, alice on her
// own order included, and changes nothing.
func (b *battery) staffCases(o *operation) []batteryCase {
	if !staffOnly(o.policy) {
		return nil
	}
	var cases []batteryCase
	for _, p := range []*principal{&b.alice, &b.bob} {
		cases = append(cases, batteryCase{row: o.id, name: "staff/as-" + p.name, run: func(ctx context.Context) caseOutcome {
			c, err := b.validCall(ctx, o, false, forProbe)
			if err != nil {
				return unable(err)
			}
			c.as = p
			return b.refusedWrite(ctx, c, func(x *exchange) string {
				if x.status != http.StatusForbidden {
					return fmt.Sprintf("%s, a customer, got %d, not 403", p.name, x.status)
				}
				return ""
			})
		}})
	}
	return cases
}

// bodyCases: each field a client must not send is refused with a 400 whose
// errors[].field names it, and nothing is written.
func (b *battery) bodyCases(o *operation) []batteryCase {
	if o.body == nil {
		return nil
	}
	var cases []batteryCase
	for _, m := range bodyMutations(o.body, o.result, b.scarce(o)) {
		cases = append(cases, batteryCase{row: o.id, name: "body/" + m.name, scarce: b.scarce(o), run: func(ctx context.Context) caseOutcome {
			if signedWebhook(o.policy) {
				return b.webhookBodyCase(ctx, o, m)
			}
			c, err := b.validCall(ctx, o, false, forProbe)
			if err != nil {
				return unable(err)
			}
			body := b.bodyFor(o, forProbe)
			if !m.apply(body) {
				return cannot("the valid body has no %s to change", m.field)
			}
			if c.body, err = marshalBody(body); err != nil {
				return cannot("%v", err)
			}
			return b.refusedWrite(ctx, c, func(x *exchange) string {
				if x.status != http.StatusBadRequest {
					return fmt.Sprintf("answered %d, not 400", x.status)
				}
				if named := problemFields(x.body); !slices.Contains(named, m.field) {
					return fmt.Sprintf("the 400 names %q, not %q", named, m.field)
				}
				return ""
			})
		}})
	}
	return cases
}

// refusedWrite sends c and judges the answer with refused (which says what
// is wrong with it, or ""); the answer must also pass verify, and the
// resource c could have written must read back unchanged.
func (b *battery) refusedWrite(ctx context.Context, c call, refused func(*exchange) string) caseOutcome {
	rb, before, err := b.snapshot(ctx, c)
	if err != nil {
		return cannot("%v", err)
	}
	x, err := b.send(ctx, c)
	if err != nil {
		return cannot("%v", err)
	}
	var after []byte
	if rb != nil {
		if after, err = b.readBack(ctx, *rb); err != nil {
			return cannot("%v", err)
		}
	}
	if rb != nil && !sameBytes(before, after) {
		return fail("%s wrote: %s reads %s, was %s", brief(x), rb.o, clip(string(after), 200), clip(string(before), 200))
	}
	if why := refused(x); why != "" {
		return fail("%s: %s", why, brief(x))
	}
	if msg := b.verify(ctx, c, x); msg != "" {
		return fail("%s: %s", msg, brief(x))
	}
	if rb == nil {
		if c.o.method == http.MethodGet {
			return pass("%d", x.status)
		}
		return pass("%d (the document has no route to read back what it would write)", x.status)
	}
	return pass("%d, %s unchanged", x.status, rb.o)
}

// snapshot reads what a write through c could change, as the read-back
// operation's own principal (alice for her resources, admin for a staff
// list). It returns nil when c is a read or the document has no read-back.
func (b *battery) snapshot(ctx context.Context, c call) (*call, []byte, error) {
	if c.check != nil {
		before, err := b.readBack(ctx, *c.check)
		if err != nil {
			return nil, nil, err
		}
		return c.check, before, nil
	}
	r := readBackOf(c.o, b.ops)
	if r == nil || c.o.op == nil {
		return nil, nil, nil
	}
	rc := call{o: r, as: b.principalFor(r.policy), path: map[string]string{}}
	for _, p := range r.pathParams() {
		v, ok := c.path[p.Name]
		if !ok {
			var err error
			if v, err = b.resource(ctx, r, p.Name, false); err != nil {
				return nil, nil, err
			}
		}
		rc.path[p.Name] = v
	}
	rc.query = b.requiredQuery(r, "").Encode()
	before, err := b.readBack(ctx, rc)
	if err != nil {
		return nil, nil, err
	}
	return &rc, before, nil
}

// scarce reports whether o's rate limit is too tight for its cases to run
// back to back: they are then spread over the run (interleave).
func (b *battery) scarce(o *operation) bool { return o.quota > 0 && o.quota <= 30 }

// timeBound is how much slower than the benign baseline an injected value
// may answer: far above the jitter of a loaded machine, far below the two
// seconds a pg_sleep payload takes once it reaches SQL. No absolute speed
// is asserted.
const timeBound = 1500 * time.Millisecond

// injectionsPerParam is how many of the shared injection values each
// parameter gets, on top of every sleep value. The values are dealt out in
// turn, so the parameters share the whole corpus between them; the sqli/*
// attacks send all of it to the list parameters.
const injectionsPerParam = 8

// paramCases: the injection corpus in every path and query parameter. A
// value the parameter's schema refuses must be refused (4xx), a value it
// allows may be served; never a 5xx, never SQL or stack text in the body,
// and never much slower than a benign value.
func (b *battery) paramCases(o *operation) []batteryCase {
	var cases []batteryCase
	for _, p := range o.params {
		var (
			baseline    time.Duration // measured once per parameter, by its first case
			baselineBad string
		)
		values := slices.Clone(sleepValues())
		for range injectionsPerParam {
			corpus := injectionValues()
			values = append(values, corpus[b.payload%len(corpus)])
			b.payload++
		}
		for _, v := range values {
			cases = append(cases, batteryCase{row: o.id, name: fmt.Sprintf("param/%s=%s", p.Name, clip(v, 40)), scarce: b.scarce(o), run: func(ctx context.Context) caseOutcome {
				c, err := b.validCall(ctx, o, false, forProbe)
				if err != nil {
					return unable(err)
				}
				if p.In == "path" {
					// A random id that does not exist is the benign value:
					// it takes the same lookup as any id.
					if _, ok := o.creators[p.Name]; ok {
						c.path[p.Name] = randomUUID()
					}
				}
				if baseline == 0 {
					if baseline, baselineBad, err = b.baseline(ctx, c); err != nil {
						return cannot("%v", err)
					}
				}
				if baselineBad != "" {
					return fail("the answer to a benign value: %s", baselineBad)
				}
				probe := c.with(func(pc *call) {
					if p.In == "path" {
						pc.path[p.Name] = v
						return
					}
					q := b.requiredQuery(o, p.Name)
					q.Set(p.Name, v)
					pc.query = q.Encode()
				})
				x, err := b.send(ctx, probe)
				if err != nil {
					return cannot("%v", err)
				}
				if msg := b.verify(ctx, probe, x); msg != "" {
					return fail("%s: %s", msg, brief(x))
				}
				valid := validValue(p, v)
				if !valid && x.status/100 != 4 {
					return fail("a value its schema refuses answered %d, not 4xx: %s", x.status, brief(x))
				}
				if slow := x.elapsed - baseline; slow > timeBound {
					return fail("answered %s after a benign value's %s (bound: %s slower): %s",
						x.elapsed.Round(time.Millisecond), baseline.Round(time.Millisecond), timeBound, brief(x))
				}
				if valid {
					return pass("%d (a value its schema allows), %s", x.status, x.elapsed.Round(time.Millisecond))
				}
				return pass("%d in %s (benign %s)", x.status, x.elapsed.Round(time.Millisecond), baseline.Round(time.Millisecond))
			}})
		}
	}
	return cases
}

// baseline is the median time of three benign requests, or what is wrong
// with their answers.
func (b *battery) baseline(ctx context.Context, c call) (time.Duration, string, error) {
	times := make([]time.Duration, 0, 3)
	for range 3 {
		x, err := b.send(ctx, c)
		if err != nil {
			return 0, "", err
		}
		if msg := b.verify(ctx, c, x); msg != "" {
			return time.Microsecond, msg + ": " + brief(x), nil // nonzero: measured, and reported by every case
		}
		times = append(times, x.elapsed)
	}
	return max(median(times), time.Microsecond), "", nil
}

// inventoryCases: a documented path answers only the methods the document
// lists for it; and when the route table is known, every route the server
// serves is documented (OWASP API9, improper inventory management).
func (b *battery) inventoryCases() []batteryCase {
	var cases []batteryCase
	var paths []string
	for _, o := range b.selected() {
		if !slices.Contains(paths, o.path) {
			paths = append(paths, o.path)
		}
	}
	for _, path := range paths {
		item := b.doc.Paths.Value(path)
		for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			if item.GetOperation(method) == nil {
				cases = append(cases, b.undocumentedMethodCase(method, path))
			}
		}
	}
	served := slices.Clone(b.opts.Served)
	slices.SortFunc(served, func(x, y Endpoint) int { return strings.Compare(x.Path+" "+x.Method, y.Path+" "+y.Method) })
	for _, e := range slices.Compact(served) {
		cases = append(cases, batteryCase{row: inventoryRow, name: "inventory/served " + e.Method + " " + e.Path, run: func(context.Context) caseOutcome {
			if item := b.doc.Paths.Value(e.Path); item != nil && item.GetOperation(e.Method) != nil {
				return pass("documented")
			}
			return fail("the server serves %s %s, which the document does not list: a route nobody reviewed", e.Method, e.Path)
		}})
	}
	return cases
}

// undocumentedMethodCase sends a method the document does not list for a
// path, as the most privileged principal any of its operations takes (so a
// refusal is not just the role check), on alice's resource, with an empty
// JSON object as the body. Anything but an error is an undocumented route.
func (b *battery) undocumentedMethodCase(method, path string) batteryCase {
	return batteryCase{row: inventoryRow, name: "inventory/method " + method + " " + path, run: func(ctx context.Context) caseOutcome {
		// Staff outrank customers, who outrank nobody.
		rank := func(o *operation) int {
			switch {
			case staffOnly(o.policy):
				return 2
			case needsToken(o.policy):
				return 1
			}
			return 0
		}
		var like *operation
		for _, o := range b.ops {
			if o.path == path && (like == nil || rank(o) > rank(like)) {
				like = o
			}
		}
		c, err := b.validCall(ctx, like, false, forForgery) // the body is dropped below
		if err != nil {
			return unable(err)
		}
		c.o = &operation{id: method + " " + path, method: method, path: path}
		if c.as == nil {
			c.as = &b.alice // on a public path a token must not open anything either
		}
		c.body, c.ctype = "", ""
		if method != http.MethodGet && method != http.MethodDelete {
			c.body = "{}"
		}
		x, err := b.send(ctx, c)
		if err != nil {
			return cannot("%v", err)
		}
		if msg := b.verify(ctx, c, x); msg != "" {
			return fail("%s: %s", msg, brief(x))
		}
		if x.status < 400 {
			return fail("the document lists no %s on %s, but the server answered %d: an undocumented route: %s", method, path, x.status, brief(x))
		}
		return pass("%d", x.status)
	}}
}
