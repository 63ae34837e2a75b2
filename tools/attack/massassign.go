package attack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// Mass assignment (OWASP API3:2023, property level). The attacker adds
// fields the form never shows and hopes the server binds them.
func massAssignmentAttacks() []Attack {
	var all []Attack
	for _, c := range patchMeCases() {
		all = append(all, Attack{
			ID: "mass-assignment/" + c.id, Issue: "mass-assignment", OWASP: "API3:2023", CWE: "CWE-915", Story: c.story,
			Run: func(ctx context.Context, t *Target) (Result, error) {
				return escalateViaPatch(ctx, t, c.body)
			},
		})
	}
	for _, c := range orderCreateCases() {
		all = append(all, orderCreate(c.id, c.story, c.extra, c.itemExtra))
	}
	return append(all,
		Attack{
			ID: "mass-assignment/order-patch-status", Issue: "mass-assignment", OWASP: "API3:2023", CWE: "CWE-915",
			Story: "PATCH one's own order with status, total_cents and internal_note next to the note.",
			Run:   patchOrderFields,
		},
		Attack{
			ID: "mass-assignment/role-on-register", Issue: "mass-assignment", OWASP: "API3:2023", CWE: "CWE-915",
			Story: "Register a new account with \"role\":\"admin\" in the body.",
			Run:   registerAsAdmin,
		},
	)
}

// patchMeCase is a PATCH /users/me body that must be refused.
type patchMeCase struct{ id, story, body string }

func patchMeCases() []patchMeCase {
	return []patchMeCase{
		{"role-on-patch-me", "PATCH /users/me with \"role\":\"admin\" next to the name.",
			`{"name":"Alice","role":"admin"}`},
		{"role-other-casing", "PATCH /users/me with \"Role\" and \"ROLE\", for binders that match names case-insensitively.",
			`{"name":"Alice","Role":"admin","ROLE":"admin"}`},
		{"duplicate-name-key", "Send \"name\" twice so a filter checks one value and the binder takes the other.",
			`{"name":"Alice","name":"Mallory"}`},
		{"hidden-columns", "PATCH /users/me with token_version, email and id.",
			`{"name":"Alice","token_version":99,"email":"mallory@example.com","id":"00000000-0000-0000-0000-000000000001"}`},
	}
}

// orderCreateCase is a valid POST /orders body plus fields at the top
// (extra) and in the item (itemExtra) that must get it refused.
type orderCreateCase struct {
	id, story        string
	extra, itemExtra map[string]any
}

func orderCreateCases() []orderCreateCase {
	return []orderCreateCase{
		{"order-total-and-status", "Create an order that names its own total, status and owner.",
			map[string]any{"total_cents": 1, "status": "paid", "owner_id": "b0b00000-0000-4000-8000-000000000002"}, nil},
		{"order-staff-fields", "Create an order with internal_note and payment_reference filled in.",
			map[string]any{"internal_note": "approved by staff", "payment_reference": "pay_forged"}, nil},
		{"item-unit-price", "Put unit_price_cents: 1 on an item to buy at one cent.",
			nil, map[string]any{"unit_price_cents": 1}},
		{"order-fields-other-casing", "Send Total_Cents, STATUS and Owner_ID for binders that ignore case.",
			map[string]any{"Total_Cents": 1, "STATUS": "paid", "Owner_ID": "b0b00000-0000-4000-8000-000000000002"}, map[string]any{"Unit_Price_Cents": 1}},
	}
}

// orderCreateBody is a valid order with the extra fields merged in.
func orderCreateBody(extra, itemExtra map[string]any) string {
	item := map[string]any{"product_id": productKeyboard, "quantity": 1}
	for k, v := range itemExtra {
		item[k] = v
	}
	body := map[string]any{"items": []any{item}, "shipping_address": validAddress(), "note": "mass assignment"}
	for k, v := range extra {
		body[k] = v
	}
	b, _ := json.Marshal(body)
	return string(b)
}

// patchOrderBody is a valid note change next to fields no customer may write.
const patchOrderBody = `{"note":"after","status":"shipped","total_cents":1,"internal_note":"x","payment_reference":"pay_x"}`

// registerBody is a valid registration that also asks for the admin role.
func registerBody(email string) string {
	return fmt.Sprintf(`{"email":%q,"password":"correct-horse-battery","name":"Mallory","role":"admin"}`, email)
}

// escalateViaPatch sends the body and then reads the account back. The
// request must be refused (400) and nothing may change.
func escalateViaPatch(ctx context.Context, t *Target, body string) (Result, error) {
	tok, err := t.login(ctx, t.Alice)
	if err != nil {
		return Result{}, err
	}
	before, _, err := t.me(ctx, tok.AccessToken)
	if err != nil {
		return Result{}, err
	}
	x, err := t.send(ctx, request{method: http.MethodPatch, path: "/api/v1/users/me", body: body, token: tok.AccessToken})
	if err != nil {
		return Result{}, err
	}
	after, _, err := t.me(ctx, tok.AccessToken)
	if err != nil {
		return Result{}, err
	}
	switch {
	case after.Role != before.Role:
		return exploited("role changed from %q to %q: %s", before.Role, after.Role, x)
	case after.Name != before.Name && after.Name == "Mallory":
		return exploited("the second of two duplicate keys was bound (name %q): %s", after.Name, x)
	case after.ID != before.ID:
		return exploited("account id changed: %s", x)
	case x.status < 400 || x.status >= 500:
		return exploited("unexpected fields accepted silently (%d), a later field could be bound: %s", x.status, x)
	}
	return blocked("refused and nothing changed (role %q): %s", after.Role, x)
}

func registerAsAdmin(ctx context.Context, t *Target) (Result, error) {
	email := fmt.Sprintf("mallory-%d@example.com", randInt())
	x, err := t.send(ctx, request{method: http.MethodPost, path: "/api/v1/auth/register", body: registerBody(email)})
	if err != nil {
		return Result{}, err
	}
	if x.status == http.StatusCreated {
		var u struct {
			Role string `json:"role"`
		}
		_ = json.Unmarshal(x.body, &u)
		if u.Role == "admin" {
			return exploited("registered as admin: %s", x)
		}
		return exploited("extra field silently ignored (role %q); a binder change would make it stick: %s", u.Role, x)
	}
	if x.status >= 500 {
		return exploited("server error: %s", x)
	}
	return blocked("refused: %s", x)
}

// orderCreate sends a valid order plus extra top-level and item fields.
// The request must be refused, and the order count must not change.
func orderCreate(id, story string, extra, itemExtra map[string]any) Attack {
	return Attack{
		ID: "mass-assignment/" + id, Issue: "mass-assignment", OWASP: "API3:2023", CWE: "CWE-915", Story: story,
		Run: func(ctx context.Context, t *Target) (Result, error) {
			tok, err := t.login(ctx, t.Alice)
			if err != nil {
				return Result{}, err
			}
			before, _, err := t.listOrderIDs(ctx, tok.AccessToken, "?limit=100")
			if err != nil {
				return Result{}, err
			}
			x, err := t.send(ctx, request{method: http.MethodPost, path: "/api/v1/orders", body: orderCreateBody(extra, itemExtra), token: tok.AccessToken})
			if err != nil {
				return Result{}, err
			}
			after, _, err := t.listOrderIDs(ctx, tok.AccessToken, "?limit=100")
			if err != nil {
				return Result{}, err
			}
			if x.status == http.StatusCreated {
				var o order
				_ = json.Unmarshal(x.body, &o)
				if o.TotalCents != 8900 || o.Status != "pending" {
					return exploited("order created with total %d and status %q: %s", o.TotalCents, o.Status, x)
				}
				return exploited("extra fields silently ignored (order created with the catalogue price); a binder change would make them stick: %s", x)
			}
			if len(after) != len(before) {
				return exploited("refused with %d, yet the order count went from %d to %d", x.status, len(before), len(after))
			}
			if x.status != http.StatusBadRequest {
				return exploited("answered %d, not 400: %s", x.status, x)
			}
			return blocked("400, no order written: %s", x)
		},
	}
}

func patchOrderFields(ctx context.Context, t *Target) (Result, error) {
	tok, err := t.login(ctx, t.Alice)
	if err != nil {
		return Result{}, err
	}
	o, err := t.createOrder(ctx, tok.AccessToken, "before")
	if err != nil {
		return Result{}, err
	}
	x, err := t.send(ctx, request{method: http.MethodPatch, path: "/api/v1/orders/" + o.ID, body: patchOrderBody, token: tok.AccessToken})
	if err != nil {
		return Result{}, err
	}
	after, _, err := t.getOrder(ctx, tok.AccessToken, o.ID)
	if err != nil {
		return Result{}, err
	}
	switch {
	case after.Status != o.Status || after.TotalCents != o.TotalCents:
		return exploited("status %s→%s, total %d→%d: %s", o.Status, after.Status, o.TotalCents, after.TotalCents, x)
	case after.Note != o.Note:
		return exploited("request with forbidden fields partly applied (note changed): %s", x)
	case x.status != http.StatusBadRequest:
		return exploited("answered %d, not 400: %s", x.status, x)
	}
	return blocked("400 and the order unchanged: %s", x)
}
