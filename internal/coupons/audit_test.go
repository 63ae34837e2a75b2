package coupons_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bulwark-dev/bulwark/internal/coupons"
	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// A coupon creation writes exactly one audit row, coupon.create, with
// nothing before and the coupon's terms after (its hint, never its code);
// a creation refused by a rule, or failing in the database, writes none,
// and a failure after the audit insert leaves no coupon.
func TestCouponCreationIsAuditedWithIt(t *testing.T) {
	percent := int32(10)
	valid := coupons.NewCoupon{Terms: coupons.Terms{PercentOff: &percent}, MaxRedemptions: 5, ExpiresAt: time.Now().Add(time.Hour)}
	for _, tc := range []struct {
		name    string
		trigger string // SQL that makes the creation fail, if any
		coupon  coupons.NewCoupon
		ok      bool
	}{
		{name: "created", coupon: valid, ok: true},
		{name: "refused by a rule", coupon: coupons.NewCoupon{Terms: coupons.Terms{PercentOff: &percent}, MaxRedemptions: 5, ExpiresAt: time.Now().Add(-time.Hour)}},
		{name: "failure after the audit insert", coupon: valid, trigger: `CREATE TRIGGER fail AFTER INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION fail()`},
		{name: "failure of the coupon insert", coupon: valid, trigger: `CREATE TRIGGER fail AFTER INSERT ON coupons FOR EACH ROW EXECUTE FUNCTION fail()`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := pgtest.New(t)
			super, service := open(t, db.Admin), open(t, db.Service)
			staff := uuid.New()
			setup := []string{`INSERT INTO users (id, email, name, password_hash, role) VALUES ('` + staff.String() + `', 'admin@example.com', 'Admin', 'x', 'admin')`}
			if tc.trigger != "" {
				setup = append(setup, `CREATE FUNCTION fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'forced failure'; END $$`, tc.trigger)
			}
			for _, sql := range setup {
				if _, err := super.Exec(t.Context(), sql); err != nil {
					t.Fatalf("%s: %v", sql, err)
				}
			}
			ctx := postgres.WithIdentity(t.Context(), postgres.Staff(staff))
			created, err := coupons.NewService(coupons.NewStore(service)).Create(ctx, staff, tc.coupon)
			if tc.ok != (err == nil) {
				t.Fatalf("create: %v, want success %v", err, tc.ok)
			}
			var n int
			if err := super.QueryRow(t.Context(), `SELECT count(*) FROM coupons`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			r, err := super.Query(t.Context(), `SELECT actor_id::text || ' ' || action || ' ' || target_id || ' ' || before::text || ' → ' || after::text FROM audit_log ORDER BY id`)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := pgx.CollectRows(r, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			if !tc.ok {
				if n != 0 || len(rows) != 0 {
					t.Fatalf("after a failed creation: %d coupons, audit rows %q; want none of either", n, rows)
				}
				return
			}
			prefix := staff.String() + " coupon.create " + created.ID.String() + " {} → "
			if n != 1 || len(rows) != 1 || !strings.HasPrefix(rows[0], prefix) ||
				!strings.Contains(rows[0], `"percent_off": 10`) || !strings.Contains(rows[0], `"code_hint": "`+created.CodeHint+`"`) {
				t.Fatalf("%d coupons, audit rows %q; want one coupon and one row starting %q with its terms", n, rows, prefix)
			}
			canonical, _ := coupons.ParseCode(created.Code)
			if strings.Contains(rows[0], canonical) || strings.Contains(rows[0], created.Code) {
				t.Fatalf("the audit row holds the coupon's code: %s", rows[0])
			}
		})
	}
}

func open(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := postgres.Open(t.Context(), url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}
