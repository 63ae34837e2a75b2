package app

import (
	"time"

	"github.com/bulwark-dev/bulwark/internal/web"
)

// Limits is every rate limit of the service, in one place, as data
// (docs/04-rate-limiting.md). routes.go says which one guards which route.
type Limits struct {
	// PerIP guards every route by client address, before authentication,
	// so floods of bad tokens or unknown paths are cut off cheaply.
	PerIP web.Policy
	// PerUser guards the authenticated API by user id, so one account
	// cannot take the whole service, whatever addresses it uses.
	PerUser web.Policy
	// AuthPerIP guards /auth/*: each request there may cost an argon2id
	// hash, so it is far stricter.
	AuthPerIP web.Policy
	// Misses counts, per user, the well-formed {id}s the resolvers did not
	// find for the caller (missing or someone else's): a customer
	// follows a few stale links, a prober asks for many ids that are not
	// theirs (docs/01-bola.md). Past it, the caller's {id} requests get 429.
	Misses web.Policy
	// LoginPerAccount counts failed logins per target account, so a brute
	// force spread over many addresses still stops.
	LoginPerAccount web.Policy
	// LoginBackoff slows failed logins per account and client address
	// exponentially: the guesser waits longer and longer, while the owner,
	// from another address, is not slowed by someone else's failures.
	LoginBackoff web.BackoffPolicy
	// CouponPerAccount and CouponPerAddress count orders that carry a
	// coupon code, per account and per client address; an order that
	// went through gives its attempt back, so only refused codes add up
	// (internal/orders/coupon_limit.go, docs/12-business-flows.md).
	CouponPerAccount web.Policy
	CouponPerAddress web.Policy
}

// DefaultLimits are the production limits.
func DefaultLimits() Limits {
	return Limits{
		PerIP:   web.Policy{Name: "ip", Burst: 200, Period: 20 * time.Second},
		PerUser: web.Policy{Name: "user", Burst: 120, Period: 20 * time.Second},
		Misses:  web.Policy{Name: "misses", Burst: 20, Period: time.Minute},
		// Authentication fails closed when the shared limiter is down: an
		// outage must not become a window for unlimited guessing.
		AuthPerIP:       web.Policy{Name: "auth-ip", Burst: 10, Period: time.Minute, FailClosed: true},
		LoginPerAccount: web.Policy{Name: "login-account", Burst: 5, Period: 15 * time.Minute, FailClosed: true},
		LoginBackoff: web.BackoffPolicy{
			Name: "login-backoff", Free: 3, Base: time.Second, Max: 5 * time.Minute, Forget: time.Hour, FailClosed: true,
		},
		// A customer mistypes a code a few times; a script tries hundreds.
		// Fail closed like sign-in: an outage must not open the guessing.
		CouponPerAccount: web.Policy{Name: "coupon-account", Burst: 10, Period: 15 * time.Minute, FailClosed: true},
		CouponPerAddress: web.Policy{Name: "coupon-ip", Burst: 30, Period: 15 * time.Minute, FailClosed: true},
	}
}
