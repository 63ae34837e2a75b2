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
// real attacker with an ordinary account has.
func (t *Target) login(ctx context.Context, a Account) (tokens, error) {
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
