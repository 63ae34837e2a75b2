package tests

import (
	"slices"
	"testing"

	"github.com/bulwark-dev/bulwark/internal/app"
)

// TestOpenAPIPolicyExtensionMatchesTable holds each operation's
// x-bulwark-policy in api/openapi.yaml to the policy its route declares in
// internal/app/routes.go. The OpenAPI battery (tools/attack/battery*.go)
// reads who may call an operation from that extension alone, so a route
// whose document says Customer while the table says OrderOwner would be
// spared the ownership cases. TestOpenAPISecurityMatchesPolicies holds the
// security requirements to the same table.
func TestOpenAPIPolicyExtensionMatchesTable(t *testing.T) {
	doc := loadOpenAPI(t)
	known := []app.Policy{app.Public, app.SignedLink, app.SignedWebhook, app.Page, app.Customer, app.OrderOwner, app.FileOwner, app.Staff, app.StaffOrder}
	table := map[string]app.Policy{}
	for _, r := range tableRoutes(t) {
		if !slices.Contains(known, r.Policy) {
			t.Errorf("%s: this test does not know policy %s; add it above", r.Key(), r.Policy)
		}
		table[r.Method+" "+openAPIPath(r.Path)] = r.Policy
	}
	checked := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			key := method + " " + path
			got, _ := op.Extensions["x-bulwark-policy"].(string)
			want, served := table[key]
			switch {
			case got == "":
				t.Errorf("%s (%s) has no x-bulwark-policy; give it the policy of its row in internal/app/routes.go", key, op.OperationID)
			case !served:
				continue // documented but not served: TestOpenAPIDocumentsEveryRoute says so
			case got != want.String():
				t.Errorf("%s (%s) is %s in internal/app/routes.go, but x-bulwark-policy says %s", key, op.OperationID, want, got)
			default:
				checked++
			}
		}
	}
	if checked < 10 {
		t.Errorf("only %d operations were checked; the comparison proves nothing", checked)
	}
}
