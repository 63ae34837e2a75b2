//go:build workshop

package workshop

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bulwark-dev/bulwark/internal/auth"
	"github.com/bulwark-dev/bulwark/internal/files"
	"github.com/bulwark-dev/bulwark/internal/seed"
)

// Reset restores the seeded demo data, for the next demonstration after an
// attack changed it, and gives every rate limit its full allowance back (an
// in-memory limiter only), so a rate-limit demonstration can follow the
// others. Stored objects of deleted rows stay on disk: the demo storage is
// thrown away with the demo database.
func Reset(pool *pgxpool.Pool, hasher *auth.Hasher, storage files.Storage, limiter any) func(context.Context) error {
	return func(ctx context.Context) error {
		if l, ok := limiter.(interface{ Clear() }); ok {
			l.Clear()
		}
		if _, err := pool.Exec(ctx, `TRUNCATE users, products, orders, order_items, files, refresh_tokens,
			coupons, coupon_redemptions, refunds, idempotency_keys, user_mfa, mfa_recovery_codes,
			workshop_coupon_uses, workshop_refunds, workshop_idempotency_keys`); err != nil {
			return fmt.Errorf("workshop reset: %w", err)
		}
		_, err := seed.Demo(ctx, pool, hasher, storage)
		return err
	}
}
