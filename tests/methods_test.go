package tests

import (
	"context"
	"net/http"
	"testing"
)

// A known path with a method it does not serve: authentication first (401
// without a token, 403 under /api/v1/admin without the role), then 405
// with Allow. An unknown path stays 404 (internal/app/methods.go).
func TestWrongMethodOnAKnownPath(t *testing.T) {
	srv := startServer(t, nil)
	alice := login(t, srv, srv.Target.Alice.Email).token
	admin := login(t, srv, srv.Target.Admin.Email).token
	order := "/api/v1/orders/" + aliceOrder
	for _, tc := range []struct {
		method, path, token string
		want                int
		allow               string
	}{
		{http.MethodPut, "/api/v1/users/me", "", http.StatusUnauthorized, ""},
		{http.MethodPut, "/api/v1/users/me", alice, http.StatusMethodNotAllowed, "GET, PATCH"},
		{http.MethodDelete, order, alice, http.StatusMethodNotAllowed, "GET, PATCH"},
		{http.MethodGet, "/api/v1/auth/login", alice, http.StatusMethodNotAllowed, "POST"},
		{http.MethodDelete, "/api/v1/admin/audit", "", http.StatusUnauthorized, ""},
		{http.MethodDelete, "/api/v1/admin/audit", alice, http.StatusForbidden, ""},
		{http.MethodDelete, "/api/v1/admin/audit", admin, http.StatusMethodNotAllowed, "GET"},
		{http.MethodGet, "/api/v1/nowhere", alice, http.StatusNotFound, ""},
		{http.MethodGet, order + "/nowhere", alice, http.StatusNotFound, ""},
		{http.MethodGet, "/api/v1/admin/nowhere", admin, http.StatusNotFound, ""},
	} {
		req, _ := http.NewRequestWithContext(context.Background(), tc.method, srv.URL+tc.path, nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != tc.want || resp.Header.Get("Allow") != tc.allow {
			t.Errorf("%s %s (token: %v): %d Allow %q, want %d Allow %q", tc.method, tc.path, tc.token != "", resp.StatusCode, resp.Header.Get("Allow"), tc.want, tc.allow)
		}
	}
}
