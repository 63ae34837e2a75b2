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
			ID: "exposure/user-fields", Issue: "exposure", OWASP: "API3:2023", CWE: "CWE-213",
			Story: "Read register, login and /users/me responses looking for hashes and internal columns.",
			Run:   userFields,
		},
	}
}

func userFields(ctx context.Context, t *Target) (Result, error) {
	email := fmt.Sprintf("eve-%d@example.com", randInt())
	reg, err := t.send(ctx, request{method: http.MethodPost, path: "/api/v1/auth/register",
		body: fmt.Sprintf(`{"email":%q,"password":"correct-horse-battery","name":"Eve"}`, email)})
	if err != nil {
		return Result{}, err
	}
	loginX, err := t.send(ctx, loginRequest(email, "correct-horse-battery"))
	if err != nil {
		return Result{}, err
	}
	var tok tokens
	if err := json.Unmarshal(loginX.body, &tok); err != nil || tok.AccessToken == "" {
		return Result{}, fmt.Errorf("login as the new account failed: %s", loginX)
	}
	_, meX, err := t.me(ctx, tok.AccessToken)
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
