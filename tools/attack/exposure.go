package attack

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
)

// forbiddenKeys must never appear in a customer's response, at any depth.
// They exist in the schema exactly so that their absence can be proven.
func forbiddenKeys() []string {
	return []string{"password_hash", "passwordHash", "PasswordHash", "token_version", "TokenVersion", "internal_note", "payment_reference", "token_hash"}
}

// Excessive data exposure (OWASP API3:2023): responses must carry exactly
// the fields of their DTO.
func exposureAttacks() []Attack {
	return []Attack{
		{
			ID: "exposure/password-hash", Issue: "exposure", OWASP: "API3:2023", CWE: "CWE-213",
			Story: "Read register, login and /users/me responses looking for the account's password hash.",
			Run:   passwordHash,
		},
		{
			ID: "exposure/user-fields", Issue: "exposure", OWASP: "API3:2023", CWE: "CWE-213",
			Story: "Read register, login and /users/me responses for exactly their documented keys: no internal column of any name.",
			Run:   userFields,
		},
		{
			ID: "exposure/order-fields", Seeded: true, Issue: "exposure", OWASP: "API3:2023", CWE: "CWE-213",
			Story: "Read every order response (create, get, list, patch, cancel, errors) for staff-only fields and values.",
			Run:   orderFields,
		},
		{
			ID: "exposure/admin-order-fields", Issue: "exposure", OWASP: "API3:2023", CWE: "CWE-213",
			Story: "Even the staff list must not carry payment references.",
			Run:   adminOrderFields,
		},
	}
}

// StaffOnlyValues are the staff-only values of the seeded orders (internal
// notes and payment references). No customer response may contain any of
// them; tests/exposure_test.go checks this list against internal/seed.
func StaffOnlyValues() []string {
	return []string{"VIP customer, check stock by hand.", "pay_alice_0001", "Refund requested once before.", "pay_alice_0002", "Fraud score 0.2", "pay_bob_0001"}
}

func orderKeys() []string {
	return []string{"created_at", "currency", "id", "items", "note", "shipping_address", "status", "total_cents", "updated_at"}
}

// placedKeys are the keys of the answer to a new order: the order and what
// its coupon took off (docs/12-business-flows.md).
func placedKeys() []string {
	return []string{"created_at", "currency", "discount_cents", "id", "items", "note", "shipping_address", "status", "total_cents", "updated_at"}
}

// orderFields collects every kind of order response a customer can get and
// checks each one's exact keys (nested too) and that no staff-only field
// name or value appears anywhere in it.
func orderFields(ctx context.Context, t *Target) (Result, error) {
	tok, err := t.login(ctx, t.Alice)
	if err != nil {
		return Result{}, err
	}
	// Alice reads her seeded orders, whose internal notes are the
	// staff-only values; the order this attack places and changes is
	// placed by ownCustomer, which is alice herself except in an isolated
	// run, where the demo accounts must stay as seeded.
	own, err := t.login(ctx, t.ownCustomer())
	if err != nil {
		return Result{}, err
	}
	send := func(method, path, body string) (*exchange, error) {
		return t.send(ctx, request{method: method, path: path, body: body, token: tok.AccessToken})
	}
	sendOwn := func(method, path, body string) (*exchange, error) {
		return t.send(ctx, request{method: method, path: path, body: body, token: own.AccessToken})
	}
	created, err := sendOwn(http.MethodPost, "/api/v1/orders", `{"items":[{"product_id":"`+productKeyboard+`","quantity":1}],`+
		`"shipping_address":{"name":"Alice Example","line1":"1 Main Street","city":"Springfield","postal_code":"12345","country":"US"},"note":"exposure check"}`)
	if err != nil {
		return Result{}, err
	}
	var o order
	if created.status != http.StatusCreated || json.Unmarshal(created.body, &o) != nil || o.ID == "" {
		return Result{}, fmt.Errorf("control: create order failed: %s", created)
	}
	single, lists, errs := []*exchange{created}, []*exchange{}, []*exchange{}
	steps := []struct {
		into   *[]*exchange
		send   func(method, path, body string) (*exchange, error)
		method string
		path   string
		body   string
	}{
		{&single, sendOwn, http.MethodGet, "/api/v1/orders/" + o.ID, ""},
		{&single, sendOwn, http.MethodPatch, "/api/v1/orders/" + o.ID, `{"note":"changed"}`},
		{&single, sendOwn, http.MethodPost, "/api/v1/orders/" + o.ID + "/cancel", ""},
		{&single, send, http.MethodGet, "/api/v1/orders/0de00000-0000-4000-8000-00000000a001", ""}, // seeded, with an internal note
		{&lists, send, http.MethodGet, "/api/v1/orders?limit=100", ""},
		{&lists, send, http.MethodGet, "/api/v1/orders?sort=-total&limit=100", ""},
		{&errs, sendOwn, http.MethodPatch, "/api/v1/orders/" + o.ID, `{"note":"after cancel"}`},  // 409
		{&errs, send, http.MethodGet, "/api/v1/orders/0de00000-0000-4000-8000-00000000b001", ""}, // bob's: 404
		{&errs, send, http.MethodPost, "/api/v1/orders", `{"items":[]}`},                         // 400
	}
	for _, s := range steps {
		x, err := s.send(s.method, s.path, s.body)
		if err != nil {
			return Result{}, err
		}
		*s.into = append(*s.into, x)
	}
	all := append(append(append([]*exchange{}, single...), lists...), errs...)
	for _, x := range all {
		if bad := leakedKeys(x.body); len(bad) > 0 {
			return exploited("%v exposed: %s", bad, x)
		}
		for _, v := range StaffOnlyValues() {
			if strings.Contains(string(x.body), v) {
				return exploited("staff-only value %q exposed: %s", v, x)
			}
		}
	}
	for i, x := range single {
		if x.status != http.StatusOK && x.status != http.StatusCreated {
			return Result{}, fmt.Errorf("control: %s", x)
		}
		keys := orderKeys()
		if i == 0 {
			keys = placedKeys() // the creation's answer
		}
		if msg := checkOrderShape(x.body, keys); msg != "" {
			return exploited("%s: %s", msg, x)
		}
	}
	for _, x := range lists {
		var page struct {
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(x.body, &page); err != nil || len(page.Items) == 0 {
			return Result{}, fmt.Errorf("control: empty or bad list: %s", x)
		}
		if got := topKeys(x.body); !slices.Equal(got, []string{"items", "next_cursor"}) {
			return exploited("list keys %v: %s", got, x)
		}
		for _, item := range page.Items {
			if msg := checkOrderShape(item, orderKeys()); msg != "" {
				return exploited("%s in a list: %s", msg, x)
			}
		}
	}
	return blocked("%d order responses (create/get/patch/cancel/list/errors): exact keys %v, no staff-only field or value", len(all), orderKeys())
}

// checkOrderShape compares an order body's keys, and its items' and
// address's keys, with the customer DTO.
func checkOrderShape(body []byte, keys []string) string {
	if got := topKeys(body); !slices.Equal(got, keys) {
		return fmt.Sprintf("order keys %v, want %v", got, keys)
	}
	var o struct {
		Items           []json.RawMessage `json:"items"`
		ShippingAddress json.RawMessage   `json:"shipping_address"`
	}
	_ = json.Unmarshal(body, &o)
	for _, it := range o.Items {
		if got, want := topKeys(it), []string{"name", "product_id", "quantity", "unit_price_cents"}; !slices.Equal(got, want) {
			return fmt.Sprintf("item keys %v, want %v", got, want)
		}
	}
	if got, want := topKeys(o.ShippingAddress), []string{"city", "country", "line1", "line2", "name", "postal_code"}; !slices.Equal(got, want) {
		return fmt.Sprintf("address keys %v, want %v", got, want)
	}
	return ""
}

func adminOrderFields(ctx context.Context, t *Target) (Result, error) {
	tok, err := t.login(ctx, t.Admin)
	if err != nil {
		return Result{}, err
	}
	x, err := t.send(ctx, request{method: http.MethodGet, path: "/api/v1/admin/orders?limit=100", token: tok.AccessToken})
	if err != nil {
		return Result{}, err
	}
	if x.status != http.StatusOK {
		return Result{}, fmt.Errorf("control: admin list failed: %s", x)
	}
	body := string(x.body)
	if strings.Contains(body, "payment_reference") || strings.Contains(body, "pay_") || strings.Contains(body, "password_hash") {
		return exploited("staff list carries payment references or hashes: %s", x)
	}
	var page struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(x.body, &page); err != nil || len(page.Items) == 0 {
		return Result{}, fmt.Errorf("control: empty or bad staff list: %s", x)
	}
	// The staff DTO is exact too: the customer's fields plus who placed the
	// order and the internal note, nothing else.
	want := []string{"created_at", "currency", "customer", "id", "internal_note", "items", "note", "shipping_address", "status", "total_cents", "updated_at"}
	for _, item := range page.Items {
		if got := topKeys(item); !slices.Equal(got, want) {
			return exploited("staff order keys %v, want %v", got, want)
		}
		var o struct {
			Customer json.RawMessage `json:"customer"`
		}
		_ = json.Unmarshal(item, &o)
		if got := topKeys(o.Customer); !slices.Equal(got, []string{"email", "id", "name"}) {
			return exploited("staff customer keys %v, want [email id name]", got)
		}
	}
	return blocked("staff list: exact keys %v, customer {email id name}; no payment reference or hash", want)
}

// userResponses registers a new account, signs in as it and reads
// /users/me: every response that is about the caller's own account.
func (t *Target) userResponses(ctx context.Context) (reg, loginX, meX *exchange, err error) {
	email := fmt.Sprintf("eve-%d@example.com", randInt())
	reg, err = t.send(ctx, request{method: http.MethodPost, path: "/api/v1/auth/register",
		body: fmt.Sprintf(`{"email":%q,"password":"correct-horse-battery","name":"Eve"}`, email)})
	if err != nil {
		return nil, nil, nil, err
	}
	loginX, err = t.send(ctx, loginRequest(email, "correct-horse-battery"))
	if err != nil {
		return nil, nil, nil, err
	}
	var tok tokens
	if err := json.Unmarshal(loginX.body, &tok); err != nil || tok.AccessToken == "" {
		return nil, nil, nil, fmt.Errorf("login as the new account failed: %s", loginX)
	}
	_, meX, err = t.me(ctx, tok.AccessToken)
	return reg, loginX, meX, err
}

// passwordHash looks for the one field everyone knows to hide: a key named
// like a password hash, or a value shaped like one (PHC strings start with
// "$argon2", "$2a$", "$scrypt$"…).
func passwordHash(ctx context.Context, t *Target) (Result, error) {
	reg, loginX, meX, err := t.userResponses(ctx)
	if err != nil {
		return Result{}, err
	}
	for _, x := range []*exchange{reg, loginX, meX} {
		for _, k := range leakedKeys(x.body) {
			if strings.EqualFold(strings.ReplaceAll(k, "_", ""), "passwordhash") {
				return exploited("%s exposed: %s", k, x)
			}
		}
		for _, prefix := range []string{"$argon2", "$2a$", "$2b$", "$2y$", "$scrypt$", "$pbkdf2"} {
			if strings.Contains(string(x.body), prefix) {
				return exploited("a value shaped like a password hash (%s…) exposed: %s", prefix, x)
			}
		}
	}
	return blocked("no password hash, by key or by shape, in register, login or /users/me")
}

func userFields(ctx context.Context, t *Target) (Result, error) {
	reg, loginX, meX, err := t.userResponses(ctx)
	if err != nil {
		return Result{}, err
	}
	userKeys := []string{"created_at", "email", "id", "name", "role"}
	checks := []struct {
		x    *exchange
		want []string
	}{
		{reg, userKeys},
		{loginX, []string{"access_token", "expires_in", "refresh_token", "token_type"}},
		{meX, userKeys},
	}
	for _, c := range checks {
		if bad := leakedKeys(c.x.body); len(bad) > 0 {
			return exploited("%v exposed: %s", bad, c.x)
		}
		if got := topKeys(c.x.body); !slices.Equal(got, c.want) {
			return exploited("keys %v, want exactly %v: %s", got, c.want, c.x)
		}
	}
	return blocked("register and /users/me return exactly %v, login exactly its four token fields; no hash or internal column anywhere", userKeys)
}

// leakedKeys walks any JSON value and lists forbidden keys found in it.
func leakedKeys(body []byte) []string {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return nil
	}
	var found []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				if slices.ContainsFunc(forbiddenKeys(), func(f string) bool { return strings.EqualFold(f, k) }) {
					found = append(found, k)
				}
				walk(child)
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(v)
	slices.Sort(found)
	return found
}

func topKeys(body []byte) []string {
	m := map[string]json.RawMessage{}
	_ = json.Unmarshal(body, &m)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func randInt() int { return rand.IntN(1_000_000_000) } //nolint:gosec // unique-enough test data, not a secret.
