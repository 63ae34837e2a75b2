package tests

import (
	"context"
	"net/http"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Broken function level authorization: staff routes refuse customers and
// anonymous callers (docs/bfla.md).
func TestBFLAAttacks(t *testing.T) { runIssue(t, "bfla", nil) }

// A demoted admin loses access on the very next request: the change of
// role ends the admin's access tokens (a trigger bumps the token version,
// internal/auth/sessions.go), and a new sign-in gets the customer's role,
// read from the database, not from a token.
func TestDemotedAdminIsRefusedAtOnce(t *testing.T) {
	srv := startServer(t, nil)
	ctx := context.Background()
	tok, err := srv.Target.Login(ctx, srv.Target.Admin)
	if err != nil {
		t.Fatal(err)
	}
	list := func() int {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/v1/admin/orders", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	if s := list(); s != http.StatusOK {
		t.Fatalf("control: admin list answered %d", s)
	}
	conn, err := pgx.Connect(ctx, srv.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, `UPDATE users SET role = 'customer' WHERE email = 'admin@example.com'`); err != nil {
		t.Fatal(err)
	}
	if s := list(); s != http.StatusUnauthorized {
		t.Errorf("demoted admin with a token signed before the demotion got %d, want 401", s)
	}
	tok = signIn(t, srv.URL, srv.Target.Admin.Email, srv.Target.Admin.Password).Access
	if s := list(); s != http.StatusForbidden {
		t.Errorf("demoted admin, signed in again, got %d, want 403", s)
	}
}
