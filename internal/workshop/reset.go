//go:build workshop

package workshop

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bulwark-dev/bulwark/internal/auth"
	"github.com/bulwark-dev/bulwark/internal/db"
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

// NewStaff returns a function that creates an admin account, for the
// workshop console's runs: each attack that signs in as staff gets an
// admin of its own, so no attack waits on the per-user limit another
// spent on the one demo admin. The API itself never creates admins.
func NewStaff(pool *pgxpool.Pool, hasher *auth.Hasher) func(ctx context.Context, email, password, name string) error {
	return func(ctx context.Context, email, password, name string) error {
		hash, err := hasher.Hash(ctx, password)
		if err != nil {
			return fmt.Errorf("hash the admin's password: %w", err)
		}
		return db.New(pool).SeedUser(ctx, db.SeedUserParams{ID: uuid.New(), Email: email, Name: name, PasswordHash: hash, Role: auth.RoleAdmin})
	}
}
