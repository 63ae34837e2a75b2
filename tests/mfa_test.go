package tests

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bulwark-dev/bulwark/internal/auth"
	"github.com/bulwark-dev/bulwark/tools/attack"
)

// paidSeedOrder is alice's seeded paid order.
const paidSeedOrder = "0de00000-0000-4000-8000-00000000a002"

func problemType(t *testing.T, a answer) string {
	t.Helper()
	var p struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(a.body, &p)
	return p.Type
}

// A refund needs a second factor checked within five minutes, inside a
// valid staff session: an admin without a second factor, a staff session
// from a password alone, and one whose second factor is six minutes old are
// all refused with 403 and the step-up problem type, and nothing is
// refunded; a fresh step-up refunds.
func TestRefundNeedsRecentSecondFactor(t *testing.T) {
	r := newRaceRig(t)
	ops := uuid.MustParse("0b500000-0000-4000-8000-000000000004")
	mint := func(mfaAt time.Time) customer {
		t.Helper()
		return customer{id: ops, token: r.mint(ops, auth.RoleAdmin, mfaAt), addr: "198.19.0.2"}
	}
	admin, err := r.srv.Target.Login(t.Context(), r.srv.Target.Admin)
	if err != nil {
		t.Fatal(err)
	}
	stale := time.Now().Add(-6 * time.Minute)
	refused := map[string]customer{
		"admin without a second factor":       {token: admin, addr: "198.19.0.3"},
		"staff session from a password alone": mint(time.Time{}),
		"second factor six minutes old":       mint(stale),
	}
	refund := "/api/v1/admin/orders/" + paidSeedOrder + "/refund"
	for name, who := range refused {
		a := r.one(raceCall{who: who, method: http.MethodPost, path: refund})
		if a.status != http.StatusForbidden || problemType(t, a) != auth.StepUpRequiredType {
			t.Errorf("%s: %d %s, want 403 of type %s", name, a.status, a.body, auth.StepUpRequiredType)
		}
		coupon := r.one(raceCall{who: who, method: http.MethodPost, path: "/api/v1/admin/coupons",
			body: map[string]any{"percent_off": 100, "max_redemptions": 1000, "expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}})
		if coupon.status != http.StatusForbidden || problemType(t, coupon) != auth.StepUpRequiredType {
			t.Errorf("%s: coupon creation %d %s, want 403 of type %s", name, coupon.status, coupon.body, auth.StepUpRequiredType)
		}
	}
	if n := r.scalar(`SELECT count(*) FROM refunds`); n != 0 {
		t.Fatalf("%d refunds after refused requests", n)
	}
	if n := r.scalar(`SELECT count(*) FROM coupons`); n != 0 {
		t.Fatalf("%d coupons after refused requests", n)
	}
	// The control: the real step-up, over HTTP, with a TOTP code.
	staff, err := r.srv.Target.StaffToken(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if a := r.one(raceCall{who: customer{token: staff, addr: "198.19.0.4"}, method: http.MethodPost, path: refund}); a.status != http.StatusCreated {
		t.Fatalf("refund after a fresh second factor: %d %s", a.status, a.body)
	}
}

// A TOTP code is accepted once: a second sign-in or step-up with the same
// code is refused, and of ten step-ups sent at once with one fresh code,
// exactly one gets a token. Mechanism: AdvanceMFAStep's
// WHERE last_step < $step.
func TestTOTPCodeCannotBeReplayed(t *testing.T) {
	r := newRaceRig(t)
	ops := r.srv.Target.Ops
	now := time.Now()
	code, err := attack.TOTPCode(ops.TOTPSecret, now)
	if err != nil {
		t.Fatal(err)
	}
	login := func(code string) answer {
		return r.one(raceCall{who: customer{addr: "198.19.1.1"}, method: http.MethodPost, path: "/api/v1/auth/login",
			body: map[string]any{"email": ops.Email, "password": ops.Password, "mfa_code": code}})
	}
	first := login(code)
	if first.status != http.StatusOK {
		t.Fatalf("sign-in with a fresh code: %d %s", first.status, first.body)
	}
	if again := login(code); again.status != http.StatusUnauthorized {
		t.Fatalf("sign-in with the same code again: %d %s, want 401", again.status, again.body)
	}
	if none := login(""); none.status != http.StatusUnauthorized || problemType(t, none) != auth.MFARequiredType {
		t.Fatalf("sign-in without a code: %d %s, want 401 of type %s", none.status, none.body, auth.MFARequiredType)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(first.body, &tok); err != nil {
		t.Fatal(err)
	}
	session := customer{token: tok.AccessToken, addr: "198.19.1.2"}
	stepUp := func(code string) raceCall {
		return raceCall{who: session, method: http.MethodPost, path: "/api/v1/auth/mfa/step-up", body: map[string]any{"code": code}}
	}
	if a := r.one(stepUp(code)); a.status != http.StatusUnauthorized {
		t.Fatalf("step-up with the code the sign-in used: %d %s, want 401", a.status, a.body)
	}
	// The next step's code, ten times at once: one wins. Three attempts
	// were spent above from the account's allowance of five; one success
	// gives its attempt back, so the burst is within it only if the
	// refusals stop at the limit: count 429s as refusals too.
	next, err := attack.TOTPCode(ops.TOTPSecret, now.Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	calls := make([]raceCall, 10)
	for i := range calls {
		calls[i] = stepUp(next)
	}
	counts := countStatuses(r.burst(calls))
	if counts[http.StatusOK] != 1 || counts[http.StatusOK]+counts[http.StatusUnauthorized]+counts[http.StatusTooManyRequests] != len(calls) {
		t.Fatalf("ten step-ups with one code at once: %v, want exactly one 200", counts)
	}
}

// A step-up adds a factor to a session; it does not start a new one. The
// stepped-up token names the session of the token that asked for it, so
// ending that session ends the step-up too: after "sign out everywhere",
// the stepped-up token is refused with 401 on the very next request, not
// accepted for the five minutes its second factor is recent.
func TestStepUpEndsWithItsSession(t *testing.T) {
	r := newRaceRig(t)
	ops := r.srv.Target.Ops
	opsID := uuid.MustParse("0b500000-0000-4000-8000-000000000004")
	session := customer{id: opsID, token: r.mint(opsID, auth.RoleAdmin, time.Time{}), addr: "198.19.2.1"}
	code, err := attack.TOTPCode(ops.TOTPSecret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	a := r.one(raceCall{who: session, method: http.MethodPost, path: "/api/v1/auth/mfa/step-up", body: map[string]any{"code": code}})
	if a.status != http.StatusOK {
		t.Fatalf("step-up: %d %s", a.status, a.body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(a.body, &tok); err != nil {
		t.Fatal(err)
	}
	_, asked, err := r.tokens.Verify(session.token)
	if err != nil {
		t.Fatal(err)
	}
	_, stepped, err := r.tokens.Verify(tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if stepped.Session != asked.Session || stepped.Version != asked.Version || stepped.MFAAt == nil {
		t.Fatalf("stepped-up token: session %s version %d factor %v; want the session %s and version %d it stepped up from, with a factor",
			stepped.Session, stepped.Version, stepped.MFAAt, asked.Session, asked.Version)
	}
	up := customer{id: opsID, token: tok.AccessToken, addr: "198.19.2.2"}
	createCoupon := raceCall{who: up, method: http.MethodPost, path: "/api/v1/admin/coupons",
		body: map[string]any{"percent_off": 10, "max_redemptions": 10, "expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}}
	if a := r.one(createCoupon); a.status != http.StatusCreated {
		t.Fatalf("coupon with the stepped-up token: %d %s", a.status, a.body)
	}
	if a := r.one(raceCall{who: session, method: http.MethodPost, path: "/api/v1/auth/logout-all"}); a.status != http.StatusNoContent {
		t.Fatalf("sign out everywhere: %d %s", a.status, a.body)
	}
	if a := r.one(createCoupon); a.status != http.StatusUnauthorized {
		t.Fatalf("coupon with the stepped-up token after sign-out everywhere: %d %s, want 401", a.status, a.body)
	}
	if n := r.scalar(`SELECT count(*) FROM coupons`); n != 1 {
		t.Fatalf("%d coupons, want the one made before the sign-out", n)
	}
}
