package attack

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
)

// Rate limiting (OWASP API4:2023). Each attack stops at its first 429 and
// sends at most maxAttempts requests, so it is bounded against any server.
const maxAttempts = 30

func rateLimitAttacks() []Attack {
	return []Attack{
		{
			ID: "ratelimit/brute-force-one-account", Issue: "ratelimit", OWASP: "API4:2023", CWE: "CWE-307",
			Story: "Guess one user's password as fast as the server answers.",
			Run: func(ctx context.Context, t *Target) (Result, error) {
				if err := t.ensure(ctx, t.Alice); err != nil {
					return Result{}, err
				}
				return untilLimited(ctx, t, func(i int) request {
					return loginRequest(t.Alice.Email, fmt.Sprintf("guess-number-%03d", i))
				}, "guesses at alice's password")
			},
		},
		{
			ID: "ratelimit/credential-stuffing", Issue: "ratelimit", OWASP: "API4:2023", CWE: "CWE-307",
			Story: "Try leaked email/password pairs, one attempt per account, so no account sees many failures.",
			Run: func(ctx context.Context, t *Target) (Result, error) {
				return untilLimited(ctx, t, func(i int) request {
					return loginRequest(fmt.Sprintf("leaked-%d@example.net", i), "Summer2024!leaked")
				}, "logins across different accounts")
			},
		},
		{
			ID: "ratelimit/rotate-forwarded-for", Issue: "ratelimit", OWASP: "API4:2023", CWE: "CWE-348",
			Story: "Brute-force one account while sending a new X-Forwarded-For per request to look like many clients.",
			Run: func(ctx context.Context, t *Target) (Result, error) {
				if err := t.ensure(ctx, t.Bob); err != nil {
					return Result{}, err
				}
				return untilLimited(ctx, t, func(i int) request {
					r := loginRequest(t.Bob.Email, fmt.Sprintf("guess-number-%03d", i))
					r.headers = map[string]string{"X-Forwarded-For": randomIP()}
					return r
				}, "guesses at bob's password, each from a \"new\" X-Forwarded-For")
			},
		},
		{
			ID: "ratelimit/parallel-guesses", Issue: "ratelimit", OWASP: "API4:2023", CWE: "CWE-367",
			Story: "Send a burst of guesses at one account at the same instant, so they all pass a check-then-count limit.",
			Run:   parallelGuesses,
		},
		{
			ID: "ratelimit/reset-by-forwarded-for", Issue: "ratelimit", OWASP: "API4:2023", CWE: "CWE-348",
			Story: "Once limited, send X-Forwarded-For with a fresh address to reset the limit.",
			Run:   resetByForwardedFor,
		},
	}
}

// untilLimited sends requests until one is refused with 429 and a
// Retry-After header. A server that answers all of them has no limit.
func untilLimited(ctx context.Context, t *Target, next func(int) request, what string) (Result, error) {
	if err := t.settle(ctx, 2); err != nil {
		return Result{}, err
	}
	for i := 1; i <= maxAttempts; i++ {
		r := next(i)
		r.probe = true
		x, err := t.send(ctx, r)
		if err != nil {
			return Result{}, err
		}
		if x.status == http.StatusTooManyRequests {
			if i == 1 {
				return Result{}, fmt.Errorf("inconclusive: the first request was already refused (429); earlier requests spent the limit, run against a fresh server")
			}
			if x.header.Get("Retry-After") == "" {
				return exploited("429 without Retry-After after %d %s", i, what)
			}
			return blocked("limited after %d %s: %d, Retry-After %s", i-1, what, x.status, x.header.Get("Retry-After"))
		}
		if x.status == http.StatusOK {
			return exploited("request %d of %s succeeded: %s", i, what, x)
		}
	}
	return exploited("%d %s, none refused with 429", maxAttempts, what)
}

func resetByForwardedFor(ctx context.Context, t *Target) (Result, error) {
	if err := t.settle(ctx, 2); err != nil {
		return Result{}, err
	}
	var limitedAt int
	for i := 1; i <= maxAttempts; i++ {
		probe := loginRequest(fmt.Sprintf("user-%d@example.net", i), "not-the-password")
		probe.probe = true
		x, err := t.send(ctx, probe)
		if err != nil {
			return Result{}, err
		}
		if x.status == http.StatusTooManyRequests {
			if i == 1 {
				return Result{}, fmt.Errorf("inconclusive: the first request was already refused (429); run against a fresh server")
			}
			limitedAt = i
			break
		}
	}
	if limitedAt == 0 {
		return exploited("no 429 within %d logins, nothing to reset", maxAttempts)
	}
	r := loginRequest("user-reset@example.net", "not-the-password")
	r.probe = true
	spoofed := randomIP()
	r.headers = map[string]string{"X-Forwarded-For": spoofed, "X-Real-IP": spoofed}
	x, err := t.send(ctx, r)
	if err != nil {
		return Result{}, err
	}
	if x.status != http.StatusTooManyRequests {
		return exploited("limited after %d logins, then X-Forwarded-For %s got through: %s", limitedAt-1, spoofed, x)
	}
	return blocked("limited after %d logins; with X-Forwarded-For %s still %d", limitedAt-1, spoofed, x.status)
}

// randomIP returns a documentation-range address (TEST-NET-3); it is only
// ever a header value, never contacted.
func randomIP() string {
	return fmt.Sprintf("203.0.113.%d", 1+rand.IntN(254)) //nolint:gosec // not a secret, just variety.
}

// parallelGuesses fires guesses at one account concurrently. The account
// allows 5 failures; a limiter that checks before the password is verified
// and counts after lets every concurrent guess through the check.
func parallelGuesses(ctx context.Context, t *Target) (Result, error) {
	if err := t.settle(ctx, 12); err != nil {
		return Result{}, err
	}
	if err := t.ensure(ctx, t.Alice); err != nil {
		return Result{}, err
	}
	const guesses = 12
	const accountBudget = 5
	var wg sync.WaitGroup
	statuses := make(chan int, guesses)
	errs := make(chan error, guesses)
	for i := range guesses {
		wg.Go(func() {
			r := loginRequest(t.Alice.Email, fmt.Sprintf("parallel-guess-%02d", i))
			r.headers = map[string]string{"X-Forwarded-For": randomIP()}
			r.probe = true
			x, err := t.send(ctx, r)
			if err != nil {
				errs <- err
				return
			}
			statuses <- x.status
		})
	}
	wg.Wait()
	close(statuses)
	close(errs)
	if err := <-errs; err != nil {
		return Result{}, err
	}
	counts := map[int]int{}
	for s := range statuses {
		counts[s]++
	}
	if counts[http.StatusOK] > 0 {
		return exploited("a guess succeeded: %v", counts)
	}
	if counts[http.StatusUnauthorized] > accountBudget {
		return exploited("%d concurrent guesses were checked against the password (budget %d): %v", counts[http.StatusUnauthorized], accountBudget, counts)
	}
	return blocked("%d concurrent guesses: %d checked (budget %d), %d refused with 429", guesses, counts[http.StatusUnauthorized], accountBudget, counts[http.StatusTooManyRequests])
}
