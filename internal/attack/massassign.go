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
	patchMe := func(id, story, body string) Attack {
		return Attack{
			ID: "mass-assignment/" + id, Issue: "mass-assignment", OWASP: "API3:2023", CWE: "CWE-915", Story: story,
			Run: func(ctx context.Context, t *Target) (Result, error) {
				return escalateViaPatch(ctx, t, body)
			},
		}
	}
	return []Attack{
		patchMe("role-on-patch-me", "PATCH /users/me with \"role\":\"admin\" next to the name.",
			`{"name":"Alice","role":"admin"}`),
		patchMe("role-other-casing", "PATCH /users/me with \"Role\" and \"ROLE\", for binders that match names case-insensitively.",
			`{"name":"Alice","Role":"admin","ROLE":"admin"}`),
		patchMe("duplicate-name-key", "Send \"name\" twice so a filter checks one value and the binder takes the other.",
			`{"name":"Alice","name":"Mallory"}`),
		patchMe("hidden-columns", "PATCH /users/me with token_version, email and id.",
			`{"name":"Alice","token_version":99,"email":"mallory@example.com","id":"00000000-0000-0000-0000-000000000001"}`),
		{
			ID: "mass-assignment/role-on-register", Issue: "mass-assignment", OWASP: "API3:2023", CWE: "CWE-915",
			Story: "Register a new account with \"role\":\"admin\" in the body.",
			Run:   registerAsAdmin,
		},
	}
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
	body := fmt.Sprintf(`{"email":%q,"password":"correct-horse-battery","name":"Mallory","role":"admin"}`, email)
	x, err := t.send(ctx, request{method: http.MethodPost, path: "/api/v1/auth/register", body: body})
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
