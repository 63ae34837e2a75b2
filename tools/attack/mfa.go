package attack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTPCode is the code an authenticator app shows for secret in the
// 30-second step of t (RFC 6238: SHA-1, six digits).
func TOTPCode(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// mfaLogin signs in with a password and a TOTP code. The server accepts
// each step's code once (a replay is refused), and the step before and
// after the current one; so when an earlier sign-in in this step spent the
// current code, the next step's is tried, and failing that the helper
// waits for a new step, as a person would.
func (t *Target) mfaLogin(ctx context.Context, a Account) (tokens, error) {
	var last *exchange
	for attempt := range 4 {
		now := time.Now()
		at := now
		if attempt%2 == 1 {
			at = now.Add(30 * time.Second) // the next step, accepted early
		}
		code, err := TOTPCode(a.TOTPSecret, at)
		if err != nil {
			return tokens{}, fmt.Errorf("TOTP code: %w", err)
		}
		body, _ := json.Marshal(map[string]string{"email": a.Email, "password": a.Password, "mfa_code": code})
		x, err := t.send(ctx, request{method: http.MethodPost, path: "/api/v1/auth/login", body: string(body)})
		if err != nil {
			return tokens{}, err
		}
		if x.status == http.StatusOK {
			var tok tokens
			if err := json.Unmarshal(x.body, &tok); err != nil || tok.AccessToken == "" {
				return tokens{}, fmt.Errorf("login as %s: no token in %s", a.Email, x)
			}
			return tok, nil
		}
		last = x
		if x.status != http.StatusUnauthorized {
			break
		}
		if attempt == 1 {
			wait := time.Duration(30-now.Unix()%30)*time.Second + 100*time.Millisecond
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return tokens{}, fmt.Errorf("waiting for a new TOTP step: %w", ctx.Err())
			}
		}
	}
	return tokens{}, fmt.Errorf("login as %s with a second factor: %s", a.Email, last)
}

// staffTokenLife is how long StaffToken reuses a token: the server takes
// a second factor for five minutes, and an attack needs a margin.
const staffTokenLife = 3 * time.Minute

// staffSession is StaffToken's cache: one per run, shared by the copies
// ForAttack makes, since ops is the demo account every attack uses.
type staffSession struct {
	mu    sync.Mutex
	token string
	at    time.Time // when it signed in
}

// staffCache returns t's StaffToken cache, made on first use.
func (t *Target) staffCache() *staffSession {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.staff == nil {
		t.staff = &staffSession{}
	}
	return t.staff
}

// StaffToken returns an access token of ops, signed in with the second
// factor less than staffTokenLife ago, which the refund and coupon routes
// accept. It is reused within a run, by every attack: each sign-in spends
// a TOTP step, and a third one within a minute would wait for a new step.
func (t *Target) StaffToken(ctx context.Context) (string, error) {
	c := t.staffCache()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && time.Since(c.at) < staffTokenLife {
		return c.token, nil
	}
	at := time.Now()
	tok, err := t.mfaLogin(ctx, t.Ops)
	if err != nil {
		return "", err
	}
	c.token, c.at = tok.AccessToken, at
	return tok.AccessToken, nil
}
