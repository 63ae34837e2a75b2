package attack

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/go-cmp/cmp"

	"github.com/bulwark-dev/bulwark/api"
)

// The battery's own parts, without a server. The black-box proofs that it
// reports real holes are in tests/battery_test.go.

func TestForbiddenNames(t *testing.T) {
	for _, tt := range []struct {
		key  string
		want bool
	}{
		{"password", true}, {"password_hash", true}, {"passwordHash", true}, {"PasswordHash", true},
		{"internal_note", true}, {"internalNote", true}, {"payment_reference", true},
		{"token_version", true}, {"access_token", true}, {"api_key", true}, {"client_secret", true}, {"salt", true},
		{"id", false}, {"note", false}, {"sha256", false}, {"keyboard", false}, {"monkey", false}, {"expires_in", false},
	} {
		if got := forbiddenName(tt.key); got != tt.want {
			t.Errorf("forbiddenName(%q) = %v, want %v", tt.key, got, tt.want)
		}
	}
}

// Tokens are allowed where the document declares them on a public route
// (sign-in); the internal note where it declares it on a staff route.
// Nowhere else, and never a password.
func TestExposedNamesAllowsOnlyDeclaredTokensAndStaffNotes(t *testing.T) {
	declares := func(names ...string) *openapi3.Schema {
		s := &openapi3.Schema{Properties: openapi3.Schemas{}}
		for _, n := range names {
			s.Properties[n] = openapi3.NewSchemaRef("", openapi3.NewStringSchema())
		}
		return s
	}
	answer := func(status int, body string) *exchange {
		return &exchange{status: status, header: http.Header{"Content-Type": {"application/json"}}, body: []byte(body)}
	}
	login := &operation{op: &openapi3.Operation{}, policy: policyPublic, result: declares("access_token", "refresh_token")}
	staff := &operation{op: &openapi3.Operation{}, policy: "StaffOrder", result: declares("internal_note")}
	customer := &operation{op: &openapi3.Operation{}, policy: "OrderOwner", result: declares("internal_note")}
	for _, tt := range []struct {
		name string
		o    *operation
		x    *exchange
		want []string
	}{
		{"sign-in tokens", login, answer(200, `{"access_token":"a","refresh_token":"r"}`), nil},
		{"a token it does not declare", login, answer(200, `{"access_token":"a","id_token":"i"}`), []string{"id_token"}},
		{"a password next to tokens", login, answer(200, `{"access_token":"a","password":"p"}`), []string{"password"}},
		{"tokens in an error", login, answer(401, `{"access_token":"a"}`), []string{"access_token"}},
		{"staff note", staff, answer(200, `{"internal_note":"n"}`), nil},
		{"customer note, even declared", customer, answer(200, `{"items":[{"internal_note":"n"}]}`), []string{"internal_note"}},
		{"nested hash", customer, answer(200, `{"owner":{"passwordHash":"h"}}`), []string{"passwordHash"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, exposedNames(tt.o, tt.x)); diff != "" {
				t.Errorf("exposedNames (-want +got):\n%s", diff)
			}
		})
	}
}

// The request path and the field names a client sent are echoed by design;
// driver text and stack traces are leaks.
func TestLeakIn(t *testing.T) {
	for _, tt := range []struct {
		body string
		want string
	}{
		{`{"status":404,"instance":"/api/v1/orders/' UNION SELECT password_hash--","request_id":"x"}`, ""},
		{`{"status":400,"errors":[{"field":"pg_sleep","message":"is not a known field"}]}`, ""},
		{`{"status":500,"detail":"ERROR: syntax error at or near \"DROP\" (SQLSTATE 42601)"}`, "SQLSTATE"},
		{`{"status":500,"detail":"goroutine 1 [running]: main.go:12"}`, "goroutine"},
		{`plain text: pq: relation "orders" does not exist`, "pq:"},
	} {
		if got := leakIn([]byte(tt.body)); got != tt.want {
			t.Errorf("leakIn(%s) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

// The body mutations of createOrder, from the real document: each names
// the field its refusal must carry, nested paths included.
func TestBodyMutationsOfCreateOrder(t *testing.T) {
	_, ops, err := loadDocument(context.Background(), api.Document())
	if err != nil {
		t.Fatal(err)
	}
	var create *operation
	for _, o := range ops {
		if o.id == "createOrder" {
			create = o
		}
	}
	if create == nil {
		t.Fatal("no createOrder in api/openapi.yaml")
	}
	fields := map[string]bool{}
	for _, m := range bodyMutations(create.body, create.result, false) {
		fields[m.field] = true
		body := map[string]any{
			"items":            []any{map[string]any{"product_id": productKeyboard, "quantity": 1}},
			"shipping_address": validAddress(),
		}
		if !m.apply(body) {
			t.Errorf("%s: the valid body has no place for it", m.name)
		}
	}
	for _, want := range []string{
		"battery_unknown", "role", "owner_id", // unknown
		"id", "status", "total_cents", "items[0].unit_price_cents", "items[0].name", // read-only, nested too
		"Items", "COUPON_CODE", "Note", // case (the first field in upper case too)
		"items[0].battery_unknown", "shipping_address.battery_unknown", // nested unknown
		"items", "items[0].quantity", "shipping_address.country", // wrong type
	} {
		if !fields[want] {
			t.Errorf("no mutation names %q; got %v", want, fields)
		}
	}
	if few := bodyMutations(create.body, create.result, true); len(few) >= len(fields) {
		t.Errorf("the few mutations of a tightly limited route are %d, not fewer than %d", len(few), len(fields))
	}
}

// Every operation of the real document has a policy, and every {id} a
// creator; no object is left open but the payment provider's event,
// which is declared open on purpose.
func TestDocumentIsReadable(t *testing.T) {
	_, ops, err := loadDocument(context.Background(), api.Document())
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range ops {
		if !knownPolicy(o.policy) {
			t.Errorf("%s: policy %q", o, o.policy)
		}
		for _, p := range o.pathParams() {
			if _, ok := o.creators[p.Name]; !ok {
				t.Errorf("%s: no creator for {%s}", o, p.Name)
			}
		}
		if open := o.unexcusedOpen(); len(open) > 0 {
			t.Errorf("%s: open objects %v", o, open)
		}
	}
}

// An object the document leaves open is closed for validation and
// reported.
func TestCloseObjects(t *testing.T) {
	open := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeObject}, Properties: openapi3.Schemas{"id": openapi3.NewSchemaRef("", openapi3.NewStringSchema())}}
	op := &openapi3.Operation{Responses: openapi3.NewResponses(openapi3.WithStatus(200, &openapi3.ResponseRef{Value: &openapi3.Response{
		Content: openapi3.NewContentWithJSONSchema(open),
	}}))}
	got := closeObjects(op)
	if len(got) != 1 || !strings.Contains(got[0], "additionalProperties unset") {
		t.Errorf("closeObjects = %v, want the one open object", got)
	}
	if open.AdditionalProperties.Has == nil || *open.AdditionalProperties.Has {
		t.Error("the open object was not closed for validation")
	}
	if err := open.VisitJSON(map[string]any{"id": "x", "password_hash": "h"}); err == nil {
		t.Error("an extra property passes the closed object")
	}
}

func TestInterleaveSpreadsScarceCases(t *testing.T) {
	var cases []batteryCase
	for i := range 12 {
		cases = append(cases, batteryCase{name: strings.Repeat("p", i+1)})
	}
	cases = append(cases, batteryCase{name: "s1", scarce: true}, batteryCase{name: "s2", scarce: true}, batteryCase{name: "s3", scarce: true})
	var at []int
	for i, c := range interleave(cases) {
		if c.scarce {
			at = append(at, i)
		}
	}
	if len(at) != 3 || at[1]-at[0] < 3 || at[2]-at[1] < 3 {
		t.Errorf("scarce cases at %v, want three spread apart", at)
	}
}

func TestValidValue(t *testing.T) {
	_, ops, err := loadDocument(context.Background(), api.Document())
	if err != nil {
		t.Fatal(err)
	}
	param := func(op, name string) *openapi3.Parameter {
		for _, o := range ops {
			for _, p := range o.params {
				if o.id == op && p.Name == name {
					return p
				}
			}
		}
		t.Fatalf("no parameter %s of %s", name, op)
		return nil
	}
	for _, tt := range []struct {
		op, name, value string
		want            bool
	}{
		{"listOrders", "limit", "1", true},
		{"listOrders", "limit", "1 OR 1=1", false},
		{"listOrders", "limit", "1000", false},
		{"listOrders", "sort", "-total", true},
		{"listOrders", "sort", "created_at;DROP TABLE orders--", false},
		{"getOrder", "id", randomUUID(), true},
		{"getOrder", "id", "1", false},
		{"getOrder", "id", "created_at--", false},
	} {
		if got := validValue(param(tt.op, tt.name), tt.value); got != tt.want {
			t.Errorf("validValue(%s %s=%q) = %v, want %v", tt.op, tt.name, tt.value, got, tt.want)
		}
	}
}

func TestPointerValue(t *testing.T) {
	v := map[string]any{"id": "o1", "items": []any{map[string]any{"id": "i1"}}, "n": 3.0, "a/b": "slash"}
	for ptr, want := range map[string]string{"/id": "o1", "/items/0/id": "i1", "/n": "3", "/a~1b": "slash"} {
		if got, ok := pointerValue(v, ptr); !ok || got != want {
			t.Errorf("pointerValue(%s) = %q, %v; want %q", ptr, got, ok, want)
		}
	}
	for _, ptr := range []string{"/missing", "/items/1/id", "/items/x"} {
		if _, ok := pointerValue(v, ptr); ok {
			t.Errorf("pointerValue(%s) found a value", ptr)
		}
	}
	if !slices.Contains(nameWords("passwordHash"), "hash") {
		t.Error("camelCase is not split")
	}
}
