package attack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// login signs in as a demo account; attacks use it to get the foothold a
// real attacker with an ordinary account has. Sessions are reused within a
// run, so a catalogue run spends few of the server's login attempts.
func (t *Target) login(ctx context.Context, a Account) (tokens, error) {
	t.mu.Lock()
	tok, ok := t.sessions[a.Email]
	t.mu.Unlock()
	if ok {
		return tok, nil
	}
	tok, err := t.freshLogin(ctx, a)
	if err != nil {
		return tokens{}, err
	}
	t.mu.Lock()
	if t.sessions == nil {
		t.sessions = map[string]tokens{}
	}
	t.sessions[a.Email] = tok
	t.mu.Unlock()
	return tok, nil
}

// freshLogin always signs in anew (for attacks that spend the refresh
// token).
func (t *Target) freshLogin(ctx context.Context, a Account) (tokens, error) {
	body, err := json.Marshal(map[string]string{"email": a.Email, "password": a.Password})
	if err != nil {
		return tokens{}, fmt.Errorf("encode login: %w", err)
	}
	x, err := t.send(ctx, request{method: http.MethodPost, path: "/api/v1/auth/login", body: string(body)})
	if err != nil {
		return tokens{}, err
	}
	if x.status != http.StatusOK {
		return tokens{}, fmt.Errorf("login as %s: %s", a.Email, x)
	}
	var tok tokens
	if err := json.Unmarshal(x.body, &tok); err != nil || tok.AccessToken == "" {
		return tokens{}, fmt.Errorf("login as %s: no token in %s", a.Email, x)
	}
	return tok, nil
}

// settle makes sure the login limits have room before a rate-limit attack
// starts, when one server serves a whole run (Pace): one paced sign-in
// attempt for an unknown account waits out whatever earlier attacks spent.
func (t *Target) settle(ctx context.Context) error {
	if !t.Pace {
		return nil
	}
	_, err := t.send(ctx, loginRequest(fmt.Sprintf("settle-%d@example.net", randInt()), "not-the-password"))
	return err
}

// Login signs in and returns the access token, for tests that drive the
// server directly.
func (t *Target) Login(ctx context.Context, a Account) (string, error) {
	tok, err := t.login(ctx, a)
	return tok.AccessToken, err
}

type me struct {
	ID   string `json:"id"`
	Role string `json:"role"`
	Name string `json:"name"`
}

func (t *Target) me(ctx context.Context, token string) (me, *exchange, error) {
	x, err := t.send(ctx, request{method: http.MethodGet, path: "/api/v1/users/me", token: token})
	if err != nil {
		return me{}, nil, err
	}
	var m me
	if x.status == http.StatusOK {
		if err := json.Unmarshal(x.body, &m); err != nil {
			return me{}, x, fmt.Errorf("decode /users/me: %w", err)
		}
	}
	return m, x, nil
}
