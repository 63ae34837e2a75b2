package attack

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// The battery reads everything it attacks from the OpenAPI document: the
// operations, who may call each (x-bulwark-policy), which operation creates
// the resource an {id} names (the creating response's links), the request
// bodies and parameters to mutate, and the schemas every answer must match.

// documentPath is where a Bulwark server serves its own document.
const documentPath = "/api/v1/openapi.yaml"

// The policies of internal/app/routes.go, as x-bulwark-policy names them.
// An owner-scoped policy ends in "Owner" (OrderOwner, FileOwner: a fork's
// InvoiceOwner is one too) and a staff policy starts with "Staff".
const (
	policyPublic   = "Public"
	policySigned   = "Signed"
	policyPage     = "Page"
	policyCustomer = "Customer"
)

// policyExtension is the operation extension that names its policy.
const policyExtension = "x-bulwark-policy"

func ownerScoped(policy string) bool { return strings.HasSuffix(policy, "Owner") }
func staffOnly(policy string) bool   { return strings.HasPrefix(policy, "Staff") }

// needsToken reports whether the policy asks for an access token. Public,
// Signed… (SignedLink, SignedWebhook: the signature is the permission) and
// Page routes do not; every other policy, a fork's new ones included, does.
func needsToken(policy string) bool {
	return policy != policyPublic && !strings.HasPrefix(policy, policySigned) && policy != policyPage
}

func knownPolicy(policy string) bool {
	return !needsToken(policy) || policy == policyCustomer || ownerScoped(policy) || staffOnly(policy)
}

// operation is one method on one path of the document.
type operation struct {
	id     string // operationId, or "METHOD path" when the document gives none
	method string
	path   string // as the document writes it: /api/v1/orders/{id}
	item   *openapi3.PathItem
	op     *openapi3.Operation
	policy string // x-bulwark-policy; "" when the document does not say

	params   []*openapi3.Parameter // the path item's and the operation's, path and query only
	creators map[string]creator    // path parameter → the operation whose answer names it
	body     *openapi3.Schema      // the application/json request body, if any
	form     *openapi3.Schema      // the multipart/form-data request body, if any
	result   *openapi3.Schema      // the JSON body of the first 2xx answer, if any
	open     []string              // objects of its schemas the document leaves open
	quota    int                   // the tightest RateLimit-Policy quota seen on it; 0 unknown
	seen     map[string]string     // query values found in a link to it the server handed out
}

// creator is the operation whose success answer holds a path parameter's
// value, at a JSON pointer into its body ($response.body#/id).
type creator struct {
	op      string
	pointer string
}

// pathParams lists the operation's path parameters, in path order.
func (o *operation) pathParams() []*openapi3.Parameter {
	var out []*openapi3.Parameter
	for _, p := range o.params {
		if p.In == openapi3.ParameterInPath {
			out = append(out, p)
		}
	}
	return out
}

func (o *operation) queryParams() []*openapi3.Parameter {
	var out []*openapi3.Parameter
	for _, p := range o.params {
		if p.In == openapi3.ParameterInQuery {
			out = append(out, p)
		}
	}
	return out
}

// unexcusedOpen are the open objects of o's schemas the contract case
// reports. A SignedWebhook operation's request is a third party's format,
// not ours: the provider adds members without notice, so the server reads
// its events tolerantly (internal/payments.ParseEvent ignores members it
// does not use, and refusing them would stop payments the day the provider
// adds one), and the document may say so explicitly, with
// additionalProperties: true, for the request alone. Left unset it is
// still reported (nobody decided), and answers are closed everywhere.
func (o *operation) unexcusedOpen() []string {
	if !signedWebhook(o.policy) {
		return o.open
	}
	return slices.DeleteFunc(slices.Clone(o.open), func(s string) bool {
		return strings.HasPrefix(s, "request ") && strings.HasSuffix(s, "(additionalProperties allowed)")
	})
}

func (o *operation) String() string { return o.method + " " + o.path }

// fetchDocument asks the server for its own document.
func (t *Target) fetchDocument(ctx context.Context) ([]byte, error) {
	x, err := t.send(ctx, request{method: http.MethodGet, path: documentPath})
	if err != nil {
		return nil, err
	}
	if x.status != http.StatusOK {
		return nil, fmt.Errorf("the server does not serve its OpenAPI document at %s (pass one with -openapi): %s", documentPath, x)
	}
	if len(x.body) >= 1<<20 {
		return nil, fmt.Errorf("the document at %s is 1 MiB or more, more than the battery reads", documentPath)
	}
	return x.body, nil
}

// loadDocument parses and validates the document, reads its operations,
// and closes every object schema that does not say additionalProperties:
// false, recording each one against the operations that use it: the
// battery validates answers as if every object were closed, and reports
// the document's open ones.
func loadDocument(ctx context.Context, data []byte) (*openapi3.T, []*operation, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false // a served document must not make the battery fetch other URLs
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, nil, fmt.Errorf("load the OpenAPI document: %w", err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, nil, fmt.Errorf("the OpenAPI document is not valid: %w", err)
	}
	doc.Servers = nil // the battery attacks the target it was given, not the documented host

	var ops []*operation
	for _, path := range doc.Paths.Keys() {
		item := doc.Paths.Value(path)
		for method, op := range item.Operations() {
			o := &operation{id: op.OperationID, method: method, path: path, item: item, op: op, creators: map[string]creator{}}
			if o.id == "" {
				o.id = o.String()
			}
			if p, ok := op.Extensions[policyExtension].(string); ok {
				o.policy = p
			}
			for _, ref := range slices.Concat(item.Parameters, op.Parameters) {
				if p := ref.Value; p != nil && (p.In == openapi3.ParameterInPath || p.In == openapi3.ParameterInQuery) {
					o.params = append(o.params, p)
				}
			}
			o.body, o.form = requestSchemas(op)
			o.result = successSchema(op)
			o.open = closeObjects(op)
			ops = append(ops, o)
		}
	}
	slices.SortFunc(ops, func(a, b *operation) int { return strings.Compare(a.path+" "+a.method, b.path+" "+b.method) })
	if err := readLinks(ops); err != nil {
		return nil, nil, err
	}
	return doc, ops, nil
}

func requestSchemas(op *openapi3.Operation) (body, form *openapi3.Schema) {
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		return nil, nil
	}
	for ctype, media := range op.RequestBody.Value.Content {
		if media.Schema == nil || media.Schema.Value == nil {
			continue
		}
		switch {
		case strings.Contains(ctype, "json"):
			body = media.Schema.Value
		case ctype == "multipart/form-data":
			form = media.Schema.Value
		}
	}
	return body, form
}

// successSchema is the JSON schema of the operation's first 2xx answer.
func successSchema(op *openapi3.Operation) *openapi3.Schema {
	for _, status := range successStatuses(op) {
		resp := op.Responses.Value(status)
		if resp == nil || resp.Value == nil {
			continue
		}
		for ctype, media := range resp.Value.Content {
			if strings.Contains(ctype, "json") && media.Schema != nil {
				return media.Schema.Value
			}
		}
	}
	return nil
}

func successStatuses(op *openapi3.Operation) []string {
	var out []string
	for status := range op.Responses.Map() {
		if len(status) == 3 && status[0] == '2' {
			out = append(out, status)
		}
	}
	slices.Sort(out)
	return out
}

// readLinks finds, for every path parameter, the operation that creates
// the resource it names: the success answer of that operation links to
// this one with the parameter taken from its body ($response.body#/id).
func readLinks(ops []*operation) error {
	byID := map[string]*operation{}
	for _, o := range ops {
		byID[o.id] = o
	}
	for _, from := range ops {
		for _, status := range successStatuses(from.op) {
			resp := from.op.Responses.Value(status)
			if resp.Value == nil {
				continue
			}
			for name, link := range resp.Value.Links {
				if link.Value == nil {
					continue
				}
				to, ok := byID[link.Value.OperationID]
				if !ok {
					return fmt.Errorf("link %s of %s names operation %q, which the document lacks (operationRef is not supported: use operationId)", name, from.id, link.Value.OperationID)
				}
				for param, expr := range link.Value.Parameters {
					s, _ := expr.(string)
					pointer, ok := strings.CutPrefix(s, "$response.body#")
					if !ok {
						return fmt.Errorf("link %s of %s: parameter %s is %v; the battery follows $response.body#/pointer only", name, from.id, param, expr)
					}
					to.creators[param] = creator{op: from.id, pointer: pointer}
				}
			}
		}
	}
	return nil
}

// closeObjects walks the JSON schemas of the operation's request and
// answers and sets additionalProperties: false on every object with
// properties that leaves it unset, returning where it did, and where an
// object is open on purpose (additionalProperties true or a schema). Only
// a closed object lets a validator see a field the document does not
// list: a leaked column would otherwise pass as an "additional property".
func closeObjects(op *openapi3.Operation) []string {
	var open []string
	seen := map[*openapi3.Schema]bool{}
	side := "" // "request " or "<status> ": where the walk started
	var walk func(where string, s *openapi3.SchemaRef)
	walk = func(where string, ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		if ref.Ref != "" {
			where = side + ref.Ref
		}
		if len(s.Properties) > 0 {
			switch {
			case s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil:
				f := false
				s.AdditionalProperties.Has = &f
				open = append(open, where+" (additionalProperties unset)")
			case s.AdditionalProperties.Schema != nil || *s.AdditionalProperties.Has:
				open = append(open, where+" (additionalProperties allowed)")
			}
		}
		for name, p := range s.Properties {
			walk(where+"."+name, p)
		}
		walk(where+"[]", s.Items)
		walk(where+"{}", s.AdditionalProperties.Schema)
		for _, list := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
			for _, sub := range list {
				walk(where, sub)
			}
		}
	}
	if op.RequestBody != nil && op.RequestBody.Value != nil {
		for ctype, media := range op.RequestBody.Value.Content {
			if strings.Contains(ctype, "json") {
				side = "request "
				walk(side+ctype, media.Schema)
			}
		}
	}
	for status, resp := range op.Responses.Map() {
		if resp.Value == nil {
			continue
		}
		for ctype, media := range resp.Value.Content {
			if strings.Contains(ctype, "json") {
				side = status + " "
				walk(side+ctype, media.Schema)
			}
		}
	}
	slices.Sort(open)
	return slices.Compact(open)
}

// readBackOf is the operation that shows what a write to o changed: GET on
// o's own path, or else on the nearest shorter path that has one
// (/orders/{id}/cancel → /orders/{id}, /admin/orders/{id} → /admin/orders).
// It is nil for a GET, which writes nothing, and when no such path exists
// (the auth routes).
func readBackOf(o *operation, ops []*operation) *operation {
	if o.method == http.MethodGet {
		return nil
	}
	for path := o.path; path != ""; path = path[:strings.LastIndex(path, "/")] {
		for _, r := range ops {
			if r.path == path && r.method == http.MethodGet {
				return r
			}
		}
	}
	return nil
}
