package tests

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/bulwark-dev/bulwark/tools/attack"
)

// session is one sign-in: an access token and its refresh token.
type session struct {
	Access  string `json:"access_token"`
	Refresh string `json:"refresh_token"`
}

// signIn always opens a new session (attack.Target.Login caches one).
func signIn(t *testing.T, base, email, password string) session {
	t.Helper()
	var s session
	if status := jsonCall(t, base, http.MethodPost, "/api/v1/auth/login", "", map[string]string{"email": email, "password": password}, &s); status != http.StatusOK {
		t.Fatalf("login %s: %d", email, status)
	}
	return s
}

// jsonCall sends a JSON request and decodes a JSON answer into out, if given.
func jsonCall(t *testing.T, base, method, path, token string, body, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = strings.NewReader(string(b))
	}
	req, _ := http.NewRequestWithContext(context.Background(), method, base+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// Each way of ending a session refuses its access tokens on the very next
// request, not when they expire; a session it does not end keeps working.
// Each case gets its own server: the sign-ins would exhaust one address's
// allowance on the auth routes.
func TestRevocationEndsAccessTokensAtOnce(t *testing.T) {
	var srv *server
	demo := attack.DemoTarget("")
	alice, admin := demo.Alice, demo.Admin
	me := func(s session) int {
		return jsonCall(t, srv.URL, http.MethodGet, "/api/v1/users/me", s.Access, nil, nil)
	}
	asOwner := func(sql string) {
		t.Helper()
		conn, err := pgx.Connect(t.Context(), srv.DatabaseURL)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = conn.Close(context.Background()) }()
		if _, err := conn.Exec(t.Context(), sql); err != nil {
			t.Fatal(err)
		}
	}

	cases := []struct {
		name  string
		email string
		end   func(t *testing.T, ended, other session)
		// otherLives: the other session of the same account survives.
		otherLives bool
	}{
		{"logout", alice.Email, func(t *testing.T, ended, _ session) {
			if s := jsonCall(t, srv.URL, http.MethodPost, "/api/v1/auth/logout", "", map[string]string{"refresh_token": ended.Refresh}, nil); s != http.StatusNoContent {
				t.Fatalf("logout: %d", s)
			}
		}, true},
		{"refresh token reused: family revoked", alice.Email, func(t *testing.T, ended, _ session) {
			var rotated session
			if s := jsonCall(t, srv.URL, http.MethodPost, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": ended.Refresh}, &rotated); s != http.StatusOK {
				t.Fatalf("refresh: %d", s)
			}
			// The spent token again: a thief's replay. The family goes.
			if s := jsonCall(t, srv.URL, http.MethodPost, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": ended.Refresh}, nil); s != http.StatusUnauthorized {
				t.Fatalf("reuse: %d", s)
			}
			if s := me(rotated); s != http.StatusUnauthorized {
				t.Errorf("the rotated session's access token after reuse: %d, want 401", s)
			}
		}, true},
		{"sign out everywhere", alice.Email, func(t *testing.T, ended, _ session) {
			if s := jsonCall(t, srv.URL, http.MethodPost, "/api/v1/auth/logout-all", ended.Access, nil, nil); s != http.StatusNoContent {
				t.Fatalf("logout-all: %d", s)
			}
		}, false},
		{"password change", alice.Email, func(t *testing.T, ended, _ session) {
			body := map[string]string{"current_password": alice.Password, "new_password": "a-new-password-for-alice"}
			if s := jsonCall(t, srv.URL, http.MethodPost, "/api/v1/users/me/password", ended.Access, body, nil); s != http.StatusNoContent {
				t.Fatalf("password change: %d", s)
			}
			// The new password signs in; the old one no longer does.
			signIn(t, srv.URL, alice.Email, "a-new-password-for-alice")
		}, false},
		{"demotion", admin.Email, func(t *testing.T, _, _ session) {
			asOwner(`UPDATE users SET role = 'customer' WHERE email = 'admin@example.com'`)
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv = startServer(t, nil)
			password := alice.Password
			if tc.email == admin.Email {
				password = admin.Password
			}
			ended, other := signIn(t, srv.URL, tc.email, password), signIn(t, srv.URL, tc.email, password)
			if me(ended) != http.StatusOK || me(other) != http.StatusOK {
				t.Fatal("control: a fresh session's token is refused")
			}
			tc.end(t, ended, other)
			if s := me(ended); s != http.StatusUnauthorized {
				t.Errorf("the ended session's access token on the next request: %d, want 401", s)
			}
			want := http.StatusUnauthorized
			if tc.otherLives {
				want = http.StatusOK
			}
			if s := me(other); s != want {
				t.Errorf("the account's other session: %d, want %d", s, want)
			}
		})
	}
}
