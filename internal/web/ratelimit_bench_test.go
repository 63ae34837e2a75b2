package web_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/bulwark-dev/bulwark/internal/web"
	"github.com/bulwark-dev/bulwark/internal/web/redislimit"
	"github.com/bulwark-dev/bulwark/internal/web/redislimit/redistest"
)

// BenchmarkLimiterAllow is the cost one rate limit adds to a request. The
// burst lasts for any short run, so iterations take the spending path; a
// long run of the memory limiter may exhaust it, and a refusal costs the
// same lookup without the write.
func BenchmarkLimiterAllow(b *testing.B) {
	p := web.Policy{Name: "bench", Burst: 1 << 20, Period: time.Hour}
	stores := []struct {
		name string
		open func(b *testing.B) web.Limiter
	}{
		{name: "memory", open: func(*testing.B) web.Limiter { return web.NewMemoryLimiter() }},
		{name: "redis", open: func(b *testing.B) web.Limiter {
			return redislimit.New(redistest.Start(b).Client())
		}},
		{name: "resilient-redis", open: func(b *testing.B) web.Limiter {
			shared := redislimit.New(redistest.Start(b).Client())
			return web.NewResilientLimiter(shared, web.NewMemoryLimiter(), slog.New(slog.DiscardHandler))
		}},
	}
	for _, store := range stores {
		b.Run(store.name, func(b *testing.B) {
			l := store.open(b)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := l.Allow(ctx, "ip:192.0.2.1", p, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
