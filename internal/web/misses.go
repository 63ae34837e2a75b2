package web

import (
	"fmt"

	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/web/secevent"
)

// missKey marks a request whose {id} Resolve could not find for the caller.
const missKey = "web.resolve_miss"

// LimitMisses answers enumeration (docs/01-bola.md): it counts the
// caller's misses, the well-formed {id}s Resolve answered 404 (missing or
// someone else's), under policy p, and once they are used up refuses the
// caller's {id} requests with 429 until the allowance refills. The ids
// stay unguessable either way; this makes probing for them slow, and
// loud: the miss that uses up the allowance is an Enumeration event.
//
// Only misses count, so a customer following a few stale links is never
// slowed. A request is let through while one more miss would fit (a peek,
// which spends nothing), and a miss is spent after the fact, so the
// headers of p appear on misses and on the 429, not on every {id} request,
// whose headers stay those of the per-user limit.
func LimitMisses(l Limiter, p Policy, key KeyFunc) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			ctx := c.Request().Context()
			k := key(c)
			d, err := l.Allow(ctx, k, p, 0)
			if err != nil {
				return fmt.Errorf("rate limit %s: %w", p.Name, err)
			}
			if !d.Allowed {
				return answer(c, p, d)
			}
			err = next(c)
			if missed, _ := c.Get(missKey).(bool); !missed {
				return err
			}
			d, lerr := l.Allow(ctx, k, p, 1)
			if lerr != nil {
				// The 404 stands; losing one miss errs on the caller's side.
				return err
			}
			if !d.Allowed || d.Remaining == 0 {
				secevent.Emit(ctx, secevent.Enumeration, secevent.ReasonMisses)
			}
			_ = answer(c, p, Decision{Allowed: true, Remaining: d.Remaining, ResetAfter: d.ResetAfter})
			return err
		}
	}
}
