package auth_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/bulwark-dev/bulwark/internal/auth"
)

// BenchmarkPasswordVerify is one login's argon2id check with the OWASP
// parameters (19 MiB, two passes), through a hasher that allows 1, 2 or 4
// at once, with more callers than that waiting. ns/op falls while there are idle
// cores and stops falling once there are none: the hashing bound
// (PASSWORD_HASH_CONCURRENCY, default: the number of cores) is set where
// more concurrency buys no throughput, only memory and latency
// (docs/performance.md).
func BenchmarkPasswordVerify(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("concurrency-%d", n), func(b *testing.B) {
			h, err := auth.NewHasher(auth.OWASPParams(), n)
			if err != nil {
				b.Fatal(err)
			}
			encoded, err := h.Hash(ctx, "correct horse battery staple")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetParallelism(n)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if ok, err := h.Verify(ctx, "correct horse battery staple", encoded); err != nil || !ok {
						b.Errorf("verify: %v %v", ok, err)
						return
					}
				}
			})
		})
	}
}
