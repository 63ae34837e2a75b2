package tests

import (
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/go-cmp/cmp"

	"github.com/bulwark-dev/bulwark/internal/app"
)

// TestOpenAPISecurityMatchesPolicies holds api/openapi.yaml to the policy
// each route declares in internal/app/routes.go: a client reading the
// document must learn the same answer to "who may call this?" as a
// reviewer reading the table. Which routes are documented at all is
// TestOpenAPIDocumentsEveryRoute's check.
func TestOpenAPISecurityMatchesPolicies(t *testing.T) {
	// The security schemes each policy requires, as the document names
	// them; none means `security: []`.
	schemes := map[app.Policy][]string{
		app.Public:     nil,
		app.SignedLink: nil,
		// The webhook's own scheme: the provider's signature over the raw body.
		app.SignedWebhook: {"webhookSignature"},
		app.Page:          nil,
		app.Customer:      {"bearerAuth"},
		app.OrderOwner:    {"bearerAuth"},
		app.FileOwner:     {"bearerAuth"},
		app.Staff:         {"adminBearerAuth"},
		app.StaffOrder:    {"adminBearerAuth"},
	}
	doc := loadOpenAPI(t)
	checked := 0
	for _, r := range tableRoutes(t) {
		want, known := schemes[r.Policy]
		if !known {
			t.Errorf("%s: this test does not know which security policy %s needs in the document; add it above", r.Key(), r.Policy)
			continue
		}
		item := doc.Paths.Value(openAPIPath(r.Path))
		if item == nil || item.GetOperation(r.Method) == nil {
			continue // undocumented: TestOpenAPIDocumentsEveryRoute says so
		}
		checked++
		got := alternatives(doc, item.GetOperation(r.Method))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s is %s in internal/app/routes.go, but its security in api/openapi.yaml differs (-policy +document):\n%s",
				r.Key(), r.Policy, diff)
		}
	}
	if checked < 10 {
		t.Errorf("only %d routes were checked; the comparison proves nothing", checked)
	}
}

// alternatives lists the security requirements of op, the document's own
// when op declares none: each one the schemes it needs together, joined
// by "+". nil is `security: []`, anyone; an empty requirement `{}` (the
// credentials are optional) is "".
func alternatives(doc *openapi3.T, op *openapi3.Operation) []string {
	reqs := doc.Security
	if op.Security != nil {
		reqs = *op.Security
	}
	var out []string
	for _, req := range reqs {
		names := make([]string, 0, len(req))
		for name := range req {
			names = append(names, name)
		}
		slices.Sort(names)
		out = append(out, strings.Join(names, "+"))
	}
	return out
}
