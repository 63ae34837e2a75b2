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
	// The routes that exist must answer with the refusal itself; a 404
	// there could hide a missing check behind a routing accident.
	known := []request{
		{method: http.MethodGet, path: "/api/v1/admin/orders"},
		{method: http.MethodGet, path: "/api/v1/admin/orders?sort=-total&status=paid"},
		{method: http.MethodPatch, path: "/api/v1/admin/orders/" + target, body: `{"status":"cancelled"}`},
		{method: http.MethodPatch, path: "/api/v1/admin/orders/" + target, body: `{"internal_note":"customer wrote this"}`},
		{method: http.MethodPost, path: "/api/v1/admin/orders/" + target + "/refund"},
		{method: http.MethodGet, path: "/api/v1/admin/orders/" + target + "/refunds"},
		{method: http.MethodGet, path: "/api/v1/admin/coupons"},
		{method: http.MethodPost, path: "/api/v1/admin/coupons", body: `{"percent_off":100,"max_redemptions":1000,"expires_at":"2099-01-01T00:00:00Z"}`},
		{method: http.MethodGet, path: "/api/v1/admin/reports/mfa"},
	}
	for _, c := range known {
		c.token = token
		x, err := t.send(ctx, c)
		if err != nil {
			return Result{}, err
		}
		if x.status != want {
			return exploited("%s %s answered %d, want %d: %s", c.method, c.path, x.status, want, x)
		}
	}
	// Paths and methods that do not exist may be a 404 for everyone, but
	// never a success.
	probes := []request{
		{method: http.MethodGet, path: "/api/v1/admin/orders/" + target},
		{method: http.MethodDelete, path: "/api/v1/admin/orders/" + target},
		{method: http.MethodGet, path: "/api/v1/admin/users"},
		{method: http.MethodGet, path: "/api/v1/ADMIN/orders"},
		{method: http.MethodGet, path: "/api/v1/admin/../admin/orders"},
	}
	for _, c := range probes {
		c.token = token
		x, err := t.send(ctx, c)
		if err != nil {
			return Result{}, err
		}
		if x.status < 400 || x.status >= 500 || (x.status != want && x.status != http.StatusNotFound) {
			return exploited("%s %s answered %d: %s", c.method, c.path, x.status, x)
		}
	}
	return blocked("%d staff routes refused with %d, %d unknown staff paths refused", len(known), want, len(probes))
}
