package postgres_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bulwark-dev/bulwark/internal/postgres"
)

// The business flows' tables (db/migrations/00005_business_flows.sql)
// under the same second wall: SQL with no owner condition, run as bob,
// sees bob's rows only; staff see the staff data; sign-in sees the second
// factors it checks and nothing else; no identity sees nothing.
func TestRowLevelSecurityOnBusinessFlowTables(t *testing.T) {
	f := newFixture(t)
	admin := open(t, f.db.Admin, postgres.Options{})
	ctx := t.Context()
	coupon := uuid.New()
	for _, sql := range []struct {
		q    string
		args []any
	}{
		{`INSERT INTO coupons (id, code_hash, code_hint, percent_off, max_redemptions, expires_at) VALUES ($1, $2, 'ABCD', 10, 5, now() + interval '1 day')`, []any{coupon, make([]byte, 32)}},
		{`INSERT INTO coupon_redemptions (coupon_id, user_id, order_id, discount_cents) VALUES ($1, $2, $3, 10), ($1, $4, $5, 10)`, []any{coupon, f.alice, f.aliceOrder, f.bob, f.bobOrder}},
		{`INSERT INTO refunds (id, order_id, owner_id, amount_cents, currency, reason) VALUES ($1, $2, $3, 100, 'EUR', 'cancelled_by_customer'), ($4, $5, $6, 100, 'EUR', 'cancelled_by_customer')`, []any{uuid.New(), f.aliceOrder, f.alice, uuid.New(), f.bobOrder, f.bob}},
		{`INSERT INTO idempotency_keys (user_id, key, request_hash, status_code, content_type, body, expires_at) VALUES ($1, 'k', $3, 201, 'application/json', '', now() + interval '1 day'), ($2, 'k', $3, 201, 'application/json', '', now() + interval '1 day')`, []any{f.alice, f.bob, make([]byte, 32)}},
		{`INSERT INTO user_mfa (user_id, secret, confirmed_at) VALUES ($1, 'JBSWY3DPEHPK3PXP', now()), ($2, 'JBSWY3DPEHPK3PXP', now())`, []any{f.alice, f.bob}},
		{`INSERT INTO mfa_recovery_codes (user_id, code_hash) VALUES ($1, $3), ($2, $3)`, []any{f.alice, f.bob, make([]byte, 32)}},
	} {
		if _, err := admin.Exec(ctx, sql.q, sql.args...); err != nil {
			t.Fatalf("fixture %q: %v", sql.q, err)
		}
	}
	db := postgres.Scoped(f.service)
	queries := map[string]string{
		"coupons":            `SELECT id FROM coupons`,
		"coupon_redemptions": `SELECT user_id FROM coupon_redemptions`,
		"refunds":            `SELECT owner_id FROM refunds`,
		"idempotency_keys":   `SELECT user_id FROM idempotency_keys`,
		"user_mfa":           `SELECT user_id FROM user_mfa`,
		"mfa_recovery_codes": `SELECT user_id FROM mfa_recovery_codes`,
	}
	cases := []struct {
		name string
		ctx  context.Context
		want map[string][]uuid.UUID
	}{
		{"bob sees his own rows only", postgres.WithIdentity(ctx, postgres.Customer(f.bob)), map[string][]uuid.UUID{
			"coupons": {coupon}, "coupon_redemptions": {f.bob}, "refunds": {f.bob}, "idempotency_keys": {f.bob},
			"user_mfa": {f.bob}, "mfa_recovery_codes": {f.bob},
		}},
		{"staff see coupons, redemptions, refunds, second factors, their own keys, no recovery code", postgres.WithIdentity(ctx, postgres.Staff(f.admin)), map[string][]uuid.UUID{
			"coupons": {coupon}, "coupon_redemptions": {f.alice, f.bob}, "refunds": {f.alice, f.bob}, "user_mfa": {f.alice, f.bob},
		}},
		{"sign-in sees second factors and recovery codes only", postgres.WithIdentity(ctx, postgres.SignIn()), map[string][]uuid.UUID{
			"user_mfa": {f.alice, f.bob}, "mfa_recovery_codes": {f.alice, f.bob},
		}},
		{"no identity sees nothing", ctx, map[string][]uuid.UUID{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for table, sql := range queries {
				got, want := ids(t, c.ctx, db, sql), sorted(c.want[table]...)
				if !slices.Equal(got, want) {
					t.Errorf("%s: got %v, want %v", sql, got, want)
				}
			}
		})
	}

	// A customer cannot mint a coupon, nor write a refund for someone else.
	bob := postgres.WithIdentity(ctx, postgres.Customer(f.bob))
	if _, err := db.Exec(bob, `INSERT INTO coupons (id, code_hash, code_hint, percent_off, max_redemptions, expires_at) VALUES ($1, $2, 'WXYZ', 100, 5, now() + interval '1 day')`, uuid.New(), append(make([]byte, 31), 1)); !isPolicyViolation(err) {
		t.Errorf("a customer created a coupon: %v", err)
	}
	if _, err := db.Exec(bob, `INSERT INTO refunds (id, order_id, owner_id, amount_cents, currency, reason) VALUES ($1, $2, $3, 1, 'EUR', 'refunded_by_staff')`, uuid.New(), f.aliceOrder, f.alice); !isPolicyViolation(err) {
		t.Errorf("bob wrote a refund for alice: %v", err)
	}
}

// Inside a request-wide transaction (Enclose, the idempotency middleware),
// the savepoints WithTx makes still send the caller's identity with each
// statement, and so does the enclosing transaction wrapped by ScopeTx.
func TestEnclosedTransactionCarriesTheIdentity(t *testing.T) {
	f := newFixture(t)
	ctx := postgres.WithIdentity(t.Context(), postgres.Customer(f.bob))
	begun, err := f.service.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = begun.Rollback(ctx) }()
	outer := postgres.ScopeTx(begun)
	// The savepoint's statement runs first: the identity it sees is the
	// one it sent, not one an earlier statement left in the transaction.
	enclosed := postgres.Enclose(ctx, outer)
	err = postgres.WithTx(enclosed, f.service, func(tx pgx.Tx) error {
		if got := ids(t, enclosed, tx, `SELECT id FROM orders`); !slices.Equal(got, sorted(f.bobOrder)) {
			t.Errorf("the savepoint saw %v, want bob's order only", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(t, ctx, outer, `SELECT id FROM orders`); !slices.Equal(got, sorted(f.bobOrder)) {
		t.Errorf("the enclosing transaction saw %v, want bob's order only", got)
	}
}

// A request that holds an enclosing transaction (the idempotency
// middleware's) runs its plain statements on it, never on a second
// connection: with a pool of one, a read through Scoped would otherwise
// wait for the connection its own request holds, and as many such requests
// as the pool has connections would each hold one and wait forever.
func TestScopedStatementsJoinTheEnclosingTransaction(t *testing.T) {
	f := newFixture(t)
	pool, err := postgres.Open(t.Context(), withPoolSize(t, f.db.Service, 1), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	ctx, cancel := context.WithTimeout(postgres.WithIdentity(t.Context(), postgres.Customer(f.bob)), 5*time.Second)
	defer cancel()
	begun, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = begun.Rollback(context.Background()) }()
	enclosed := postgres.Enclose(ctx, postgres.ScopeTx(begun))
	var pid uint32
	if err := postgres.Scoped(pool).QueryRow(enclosed, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatalf("a read through Scoped inside the enclosing transaction: %v (waiting for a second connection of a pool of one?)", err)
	}
	if pid != begun.Conn().PgConn().PID() {
		t.Errorf("the read ran on backend %d, not the enclosing transaction's %d", pid, begun.Conn().PgConn().PID())
	}
	if got := ids(t, enclosed, postgres.Scoped(pool), `SELECT id FROM orders`); !slices.Equal(got, sorted(f.bobOrder)) {
		t.Errorf("the enclosed read saw %v, want bob's order only", got)
	}
}
