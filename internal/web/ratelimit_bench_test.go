package web

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/bulwark-dev/bulwark/internal/redistest"
)

// BenchmarkLimiterAllow is the cost one rate limit adds to a request. The
// burst lasts for any short run, so iterations take the spending path; a
// long run of the memory limiter may exhaust it, and a refusal costs the
// same lookup without the write.
func BenchmarkLimiterAllow(b *testing.B) {
	p := Policy{Name: "bench", Burst: 1 << 20, Period: time.Hour}
	stores := []struct {
		name string
		open func(b *testing.B) Limiter
	}{
		{name: "memory", open: func(*testing.B) Limiter { return NewMemoryLimiter() }},
		{name: "redis", open: func(b *testing.B) Limiter {
			return NewRedisLimiter(newTestRedisClient(b, redistest.Start(b).URL()))
		}},
		{name: "resilient-redis", open: func(b *testing.B) Limiter {
			shared := NewRedisLimiter(newTestRedisClient(b, redistest.Start(b).URL()))
			return NewResilientLimiter(shared, NewMemoryLimiter(), slog.New(slog.DiscardHandler))
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
