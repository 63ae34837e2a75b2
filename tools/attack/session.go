package attack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
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
// token). An account with a second factor sends a TOTP code with it
// (mfaLogin).
func (t *Target) freshLogin(ctx context.Context, a Account) (tokens, error) {
	if err := t.ensure(ctx, a); err != nil {
		return tokens{}, err
	}
	if a.TOTPSecret != "" {
		return t.mfaLogin(ctx, a)
	}
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

// settle makes sure the per-address auth limit has room for need requests
// before a rate-limit attack starts, when one server serves a whole run
// (Pace); otherwise the attack's probes could be refused for what earlier
// attacks spent, and prove nothing. It asks the cheapest auth route (a
// refresh with a token that does not exist: no password hash), reads the
// RateLimit headers of the answer, and waits for the refill it needs. Its
// own request spends one, so at most quota-1 can be waited for. An
// isolated attack (ForAttack) has its own address and a whole allowance:
// nothing to wait for.
func (t *Target) settle(ctx context.Context, need int) error {
	if !t.Pace || t.isolated {
		return nil
	}
	for range 10 {
		x, err := t.send(ctx, request{method: http.MethodPost, path: "/api/v1/auth/refresh", body: `{"refresh_token":"rt_settle"}`})
		if err != nil {
			return err
		}
		room, ok := rateLimitRoom(x.header)
		if !ok {
			return nil // no limit reported: nothing to wait for
		}
		need = min(need, room.quota-1)
		if room.remaining >= need {
			return nil
		}
		// The next settle request spends one more, hence the +1.
		wait := time.Duration(need-room.remaining+1) * room.refill
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return fmt.Errorf("waiting %s for the auth limit to refill: %w", wait, ctx.Err())
		}
	}
	return errors.New("the auth limit did not refill: another client may be using it")
}

// limitRoom is what the RateLimit headers say: requests left, the quota,
// and how long one request takes to come back (window / quota).
type limitRoom struct {
	remaining, quota int
	refill           time.Duration
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

// rateLimitRoom reads the RateLimit and RateLimit-Policy headers
// ("name";r=remaining;t=reset and "name";q=quota;w=window).
func rateLimitRoom(h http.Header) (limitRoom, bool) {
	field := func(header, key string) (int, bool) {
		for part := range strings.SplitSeq(h.Get(header), ";") {
			if v, found := strings.CutPrefix(strings.TrimSpace(part), key+"="); found {
				n, err := strconv.Atoi(v)
				return n, err == nil
			}
		}
		return 0, false
	}
	remaining, okR := field("RateLimit", "r")
	quota, okQ := field("RateLimit-Policy", "q")
	window, okW := field("RateLimit-Policy", "w")
	if !okR || !okQ || !okW || quota <= 0 {
		return limitRoom{}, false
	}
	refill := time.Duration(window)*time.Second/time.Duration(quota) + 100*time.Millisecond
	return limitRoom{remaining: remaining, quota: quota, refill: refill}, true
}
