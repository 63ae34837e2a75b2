package attack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// What every answer the battery receives is held to, whatever its case:
// the document, no forbidden field names, and no internal detail in errors.

// verify returns what is wrong with the answer x to c, or "".
func (b *battery) verify(ctx context.Context, c call, x *exchange) string {
	var problems []string
	if x.status >= 500 {
		problems = append(problems, fmt.Sprintf("server error %d", x.status))
	}
	if msg := b.conforms(ctx, c, x); msg != "" {
		problems = append(problems, "does not match the document: "+msg)
	}
	if names := exposedNames(c.o, x); len(names) > 0 {
		problems = append(problems, fmt.Sprintf("forbidden field names %q in the answer", names))
	}
	if x.status >= 400 {
		if m := leakIn(x.body); m != "" {
			problems = append(problems, fmt.Sprintf("the error reveals %q", m))
		}
	}
	return strings.Join(problems, "; ")
}

// conforms validates the answer against the operation with kin-openapi:
// the status must be documented, and the headers and body must match, with
// every object closed (loadDocument closed those the document left open).
// An answer to a request the document does not list (c.o has no op) may
// only be an error, as problem+json.
func (b *battery) conforms(ctx context.Context, c call, x *exchange) string {
	if x.status >= 400 {
		if msg := checkRequestID(x); msg != "" {
			return msg
		}
	}
	if c.o.op == nil {
		return b.conformsUndocumented(x)
	}
	req, err := http.NewRequestWithContext(ctx, c.o.method, "http://battery.invalid"+c.target(), nil)
	if err != nil {
		return "rebuild the request: " + err.Error()
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: c.path,
			Route:      &routers.Route{Spec: b.doc, Path: c.o.path, PathItem: c.o.item, Method: c.o.method, Operation: c.o.op},
		},
		Status:  x.status,
		Header:  x.header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	input.SetBodyBytes(x.body)
	if err := openapi3filter.ValidateResponse(ctx, input); err != nil {
		return clip(err.Error(), 600)
	}
	return ""
}

func (b *battery) conformsUndocumented(x *exchange) string {
	if x.status < 400 {
		return "" // the inventory case says what a success here means
	}
	mediaType, _, _ := mime.ParseMediaType(x.header.Get("Content-Type"))
	if mediaType != "application/problem+json" {
		return fmt.Sprintf("error as %q, not application/problem+json", x.header.Get("Content-Type"))
	}
	var v any
	if err := json.Unmarshal(x.body, &v); err != nil {
		return "problem body is not JSON"
	}
	if ref := b.doc.Components.Schemas["Problem"]; ref != nil && ref.Value != nil {
		if err := ref.Value.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.VisitAsResponse()); err != nil {
			return "problem body does not match #/components/schemas/Problem: " + clip(err.Error(), 300)
		}
	}
	return ""
}

// checkRequestID: an error body quotes the id its X-Request-Id header
// carries, so a client can report it.
func checkRequestID(x *exchange) string {
	var p struct {
		RequestID *string `json:"request_id"`
	}
	if json.Unmarshal(x.body, &p) == nil && p.RequestID != nil && *p.RequestID != x.header.Get("X-Request-Id") {
		return fmt.Sprintf("request_id %q differs from X-Request-Id %q", *p.RequestID, x.header.Get("X-Request-Id"))
	}
	return ""
}

// exposedNames lists the forbidden names among the keys of a JSON answer,
// at any depth. A name is forbidden when one of its words is password,
// secret, key, token, hash or salt, or it is internal_note or
// payment_reference. Three exceptions, all only where the document
// declares the very key in the success answer: tokens in the answers of
// the public sign-in routes, which exist to hand them out, the internal
// note in staff answers, and the keys an operation lists in its
// x-bulwark-hands-out (handsOut).
func exposedNames(o *operation, x *exchange) []string {
	mediaType, _, _ := mime.ParseMediaType(x.header.Get("Content-Type"))
	if !strings.Contains(mediaType, "json") {
		return nil
	}
	var v any
	if json.Unmarshal(x.body, &v) != nil {
		return nil
	}
	declared := map[string]bool{}
	if x.status/100 == 2 && o.op != nil {
		declaredKeys(o.result, declared, map[*openapi3.Schema]bool{})
	}
	var out []string
	walkKeys(v, func(key string) {
		if !forbiddenName(key) || slices.Contains(out, key) {
			return
		}
		words := nameWords(key)
		switch {
		case declared[key] && slices.Contains(words, "token") && o.policy == policyPublic:
		case declared[key] && key == "internal_note" && staffOnly(o.policy):
		case declared[key] && handsOut(o, key):
		default:
			out = append(out, key)
		}
	})
	return out
}

// handsOut reports whether the operation declares, in its
// x-bulwark-hands-out list, that its success answer hands key to the
// caller on purpose: a second factor's secret shown once at enrolment, the
// access token a step-up issues.
func handsOut(o *operation, key string) bool {
	if o.op == nil {
		return false
	}
	list, _ := o.op.Extensions["x-bulwark-hands-out"].([]any)
	for _, v := range list {
		if s, ok := v.(string); ok && s == key {
			return true
		}
	}
	return false
}

func forbiddenName(key string) bool {
	joined := strings.Join(nameWords(key), "_")
	if joined == "internal_note" || joined == "payment_reference" {
		return true
	}
	for _, w := range nameWords(key) {
		switch w {
		case "password", "passwd", "secret", "key", "token", "hash", "salt":
			return true
		}
	}
	return false
}

// nameWords splits snake_case, kebab-case and camelCase names into
// lower-case words: passwordHash → password, hash.
func nameWords(key string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	runes := []rune(key)
	for i, r := range runes {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
		case unicode.IsUpper(r) && i > 0 && unicode.IsLower(runes[i-1]):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	return words
}

func walkKeys(v any, f func(string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			f(k)
			walkKeys(child, f)
		}
	case []any:
		for _, child := range v {
			walkKeys(child, f)
		}
	}
}

func declaredKeys(s *openapi3.Schema, into map[string]bool, seen map[*openapi3.Schema]bool) {
	if s == nil || seen[s] {
		return
	}
	seen[s] = true
	for name, p := range s.Properties {
		into[name] = true
		if p != nil {
			declaredKeys(p.Value, into, seen)
		}
	}
	if s.Items != nil {
		declaredKeys(s.Items.Value, into, seen)
	}
}

// leakIn looks for implementation detail in an error body: driver and SQL
// text, stack traces, source paths, Go type names (the markers of
// errors/* and sqli/*). The request path (instance), the request id and
// the field names the client sent are echoed by design, so they are
// removed first: a payload in the path must not count as a leak.
func leakIn(body []byte) string {
	text := string(body)
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		delete(m, "instance")
		delete(m, "request_id")
		if errs, ok := m["errors"].([]any); ok {
			for _, e := range errs {
				if fe, ok := e.(map[string]any); ok {
					delete(fe, "field")
				}
			}
		}
		stripped, _ := json.Marshal(m)
		text = string(stripped)
	}
	lower := strings.ToLower(text)
	for _, marker := range slices.Concat(internalMarkers(), sqlMarkers()) {
		if strings.Contains(lower, strings.ToLower(marker)) {
			return marker
		}
	}
	return ""
}

// problemFields are the errors[].field names of a problem body.
func problemFields(body []byte) []string {
	var p struct {
		Errors []struct {
			Field string `json:"field"`
		} `json:"errors"`
	}
	_ = json.Unmarshal(body, &p)
	out := make([]string, 0, len(p.Errors))
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	return out
}

// sameAnswer compares two refusals as a client sees them: status and
// problem body, less the request id and the path (instance), which differ
// by design.
func sameAnswer(a, b *exchange) bool {
	return a.status == b.status && normalizeProblem(a.body) == normalizeProblem(b.body)
}

// readBack is the body a read-back answered, for comparing before and
// after a refused write.
func (b *battery) readBack(ctx context.Context, c call) ([]byte, error) {
	x, err := b.send(ctx, c)
	if err != nil {
		return nil, err
	}
	if x.status != http.StatusOK {
		return nil, fmt.Errorf("read-back %s answered %d: %s", c.o, x.status, brief(x))
	}
	return x.body, nil
}

func pathEscape(s string) string { return url.PathEscape(s) }

// sameBytes reports whether a read-back is unchanged.
func sameBytes(a, b []byte) bool { return bytes.Equal(a, b) }
