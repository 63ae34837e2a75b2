package attack

import (
	"context"
	"net/http"
)

// Broken function level authorization (OWASP API5:2023, CWE-285): staff
// functions must refuse everyone who is not staff, whatever they try.
func bflaAttacks() []Attack {
	return []Attack{
		{
			ID: "bfla/customer-calls-admin", Issue: "bfla", OWASP: "API5:2023", CWE: "CWE-285",
			Story: "Alice calls every admin route with her customer token.",
			Run: func(ctx context.Context, t *Target) (Result, error) {
				tok, err := t.login(ctx, t.Alice)
				if err != nil {
					return Result{}, err
				}
				return adminRoutesRefused(ctx, t, tok.AccessToken, http.StatusForbidden)
			},
		},
		{
			ID: "bfla/anonymous-calls-admin", Issue: "bfla", OWASP: "API5:2023", CWE: "CWE-306",
			Story: "Call every admin route with no token at all.",
			Run: func(ctx context.Context, t *Target) (Result, error) {
				return adminRoutesRefused(ctx, t, "", http.StatusUnauthorized)
			},
		},
	}
}

// adminRoutesRefused calls each staff route, including an unknown one and
// method variants, and requires the given refusal status on all of them.
func adminRoutesRefused(ctx context.Context, t *Target, token string, want int) (Result, error) {
	target := "0de00000-0000-4000-8000-00000000a001" // a seeded order of alice's
	calls := []request{
		{method: http.MethodGet, path: "/api/v1/admin/orders"},
		{method: http.MethodGet, path: "/api/v1/admin/orders?sort=-total&status=paid"},
		{method: http.MethodPatch, path: "/api/v1/admin/orders/" + target, body: `{"status":"cancelled"}`},
		{method: http.MethodPatch, path: "/api/v1/admin/orders/" + target, body: `{"internal_note":"customer wrote this"}`},
		{method: http.MethodGet, path: "/api/v1/admin/orders/" + target},
		{method: http.MethodDelete, path: "/api/v1/admin/orders/" + target},
		{method: http.MethodGet, path: "/api/v1/admin/users"},
		{method: http.MethodGet, path: "/api/v1/ADMIN/orders"},
		{method: http.MethodGet, path: "/api/v1/admin/../admin/orders"},
	}
	for _, c := range calls {
		c.token = token
		x, err := t.send(ctx, c)
		if err != nil {
			return Result{}, err
		}
		if x.status < 400 {
			return exploited("%s %s answered %d: %s", c.method, c.path, x.status, x)
		}
		// An unknown path may be a 404 for everyone; a known staff route
		// must be the refusal, never a 404 that hides a missing check.
		if x.status != want && x.status != http.StatusNotFound {
			return exploited("%s %s answered %d, want %d: %s", c.method, c.path, x.status, want, x)
		}
		if c.path == "/api/v1/admin/orders" && x.status != want {
			return exploited("%s %s answered %d, want %d: %s", c.method, c.path, x.status, want, x)
		}
	}
	return blocked("%d calls to staff routes, each refused (%d)", len(calls), want)
}
