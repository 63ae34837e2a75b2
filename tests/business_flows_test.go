package tests

import (
	"net/http"
	"strings"
	"testing"

	"github.com/bulwark-dev/bulwark/internal/coupons"
)

// Sensitive business flows (docs/12-business-flows.md): one burst of
// parallel requests per flow, against a fresh server, and the effects
// counted back: each is BLOCKED. The repeated races with many rounds are
// in races_test.go.
func TestBusinessFlowAttacks(t *testing.T) { runIssue(t, "business-flows", nil) }

// Coupon codes cannot be guessed at speed: an account's orders carrying a
// code are limited (coupon-account, 10 per 15 minutes) and so are an
// address's, whatever accounts it uses (coupon-ip, 30 per 15 minutes);
// refused codes are answered 422 until then, 429 with Retry-After and the
// RateLimit headers after.
func TestCouponGuessingIsLimitedPerAccountAndAddress(t *testing.T) {
	r := newRaceRig(t)
	guess := func(who customer) answer {
		return r.one(raceCall{who: who, method: http.MethodPost, path: "/api/v1/orders",
			body: raceOrder(keyboard, 1, "guess", coupons.NewCode())})
	}
	guesser := r.customers(1)[0]
	for i := 1; i <= 11; i++ {
		a := guess(guesser)
		want := http.StatusUnprocessableEntity
		if i == 11 {
			want = http.StatusTooManyRequests
		}
		if a.status != want {
			t.Fatalf("guess %d from one account: %d %s, want %d", i, a.status, a.body, want)
		}
		if i == 11 && (a.header.Get("Retry-After") == "" || !strings.Contains(a.header.Get("RateLimit-Policy"), `"coupon-account"`)) {
			t.Fatalf("the refusal has Retry-After %q and RateLimit-Policy %q", a.header.Get("Retry-After"), a.header.Get("RateLimit-Policy"))
		}
	}
	// One address, a new account every 5 guesses: the address's limit.
	accounts := r.customers(7)
	for i := range 31 {
		who := accounts[i/5]
		who.addr = "198.19.2.1"
		a := guess(who)
		if i < 30 && a.status != http.StatusUnprocessableEntity {
			t.Fatalf("guess %d from one address: %d %s, want 422", i+1, a.status, a.body)
		}
		if i == 30 && (a.status != http.StatusTooManyRequests || !strings.Contains(a.header.Get("RateLimit-Policy"), `"coupon-ip"`)) {
			t.Fatalf("guess 31 from one address: %d, RateLimit-Policy %q; want 429 from coupon-ip", a.status, a.header.Get("RateLimit-Policy"))
		}
	}
	if n := r.scalar(`SELECT count(*) FROM orders WHERE note = 'guess'`); n != 0 {
		t.Fatalf("%d orders placed by guesses", n)
	}
}
