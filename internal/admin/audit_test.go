package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bulwark-dev/bulwark/internal/admin"
	"github.com/bulwark-dev/bulwark/internal/orders"
	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// stage is a database with an admin and one pending order, the service's
// pool (bulwark_app, under row-level security) and the superuser's.
type stage struct {
	super, service *pgxpool.Pool
	svc            *admin.Service
	staff          context.Context
	adminID, order uuid.UUID
}

func newStage(t *testing.T) stage {
	t.Helper()
	db := pgtest.New(t)
	s := stage{adminID: uuid.New(), order: uuid.New()}
	s.super, s.service = open(t, db.Admin), open(t, db.Service)
	customer := uuid.New()
	for _, sql := range []string{
		`INSERT INTO users (id, email, name, password_hash, role) VALUES ('` + s.adminID.String() + `', 'admin@example.com', 'Admin', 'x', 'admin')`,
		`INSERT INTO users (id, email, name, password_hash) VALUES ('` + customer.String() + `', 'c@example.com', 'C', 'x')`,
		`INSERT INTO orders (id, owner_id, total_cents, shipping_address) VALUES ('` + s.order.String() + `', '` + customer.String() + `', 100, '{}')`,
	} {
		if _, err := s.super.Exec(t.Context(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	s.svc = admin.NewService(admin.NewStore(s.service), orders.NewCursors([]byte("k")))
	s.staff = postgres.WithIdentity(t.Context(), postgres.Staff(s.adminID))
	return s
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

func (s stage) update(t *testing.T, status orders.Status, note string) error {
	t.Helper()
	current, err := s.svc.Get(s.staff, s.order)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.svc.Update(s.staff, s.adminID, current, &status, &note)
	return err
}

// state is the order's status and note and the audit rows, read as the
// superuser.
func (s stage) state(t *testing.T) (status, note string, rows []string) {
	t.Helper()
	ctx := t.Context()
	if err := s.super.QueryRow(ctx, `SELECT status, internal_note FROM orders WHERE id = $1`, s.order).Scan(&status, &note); err != nil {
		t.Fatal(err)
	}
	r, err := s.super.Query(ctx, `SELECT actor_id::text || ' ' || action || ' ' || target_id || ' ' || before::text || ' → ' || after::text FROM audit_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	rows, err = pgx.CollectRows(r, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return status, note, rows
}

// A staff change writes exactly one row: who, what, before → after.
func TestStaffChangeIsAuditedOnce(t *testing.T) {
	s := newStage(t)
	if err := s.update(t, orders.StatusPaid, "checked"); err != nil {
		t.Fatal(err)
	}
	status, note, rows := s.state(t)
	if status != "paid" || note != "checked" {
		t.Fatalf("order is %s %q, want paid \"checked\"", status, note)
	}
	want := s.adminID.String() + " order.update " + s.order.String() +
		` {"status": "pending", "internal_note": ""} → {"status": "paid", "internal_note": "checked"}`
	if len(rows) != 1 || rows[0] != want {
		t.Fatalf("audit rows:\n%s\nwant exactly:\n%s", strings.Join(rows, "\n"), want)
	}
	// The staff read it back through the service's role.
	var before, after json.RawMessage
	err := postgres.WithTx(s.staff, s.service, func(tx pgx.Tx) error {
		return tx.QueryRow(s.staff, `SELECT before, after FROM audit_log`).Scan(&before, &after)
	})
	if err != nil || !strings.Contains(string(after), "paid") {
		t.Fatalf("staff read: %s %s %v", before, after, err)
	}
}

// No change without its row and no row without its change: a failure
// forced after the audit row is inserted (a trigger that raises once the
// row is in) rolls back the order's change too; a failure of the order's
// update leaves no row.
func TestStaffChangeAndItsAuditRowCommitTogether(t *testing.T) {
	for _, tc := range []struct {
		name, trigger string
	}{
		{"failure after the audit insert", `CREATE TRIGGER fail AFTER INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION fail()`},
		{"failure of the order update", `CREATE TRIGGER fail AFTER UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION fail()`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStage(t)
			for _, sql := range []string{
				`CREATE FUNCTION fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'forced failure'; END $$`,
				tc.trigger,
			} {
				if _, err := s.super.Exec(t.Context(), sql); err != nil {
					t.Fatal(err)
				}
			}
			err := s.update(t, orders.StatusPaid, "checked")
			if err == nil || !strings.Contains(err.Error(), "forced failure") {
				t.Fatalf("update: %v, want the forced failure", err)
			}
			status, note, rows := s.state(t)
			if status != "pending" || note != "" || len(rows) != 0 {
				t.Fatalf("after a failed change: order %s %q, audit rows %q; want pending, no note, no row", status, note, rows)
			}
		})
	}
}

// The service's role cannot change or remove the trail, whatever scope it
// claims: UPDATE and DELETE are not granted (permission denied, 42501).
func TestServiceRoleCannotRewriteTheTrail(t *testing.T) {
	s := newStage(t)
	if err := s.update(t, orders.StatusPaid, "checked"); err != nil {
		t.Fatal(err)
	}
	for _, scope := range []postgres.Identity{postgres.Staff(s.adminID), {Scope: "maintenance"}, {}} {
		ctx := postgres.WithIdentity(t.Context(), scope)
		for _, sql := range []string{
			`UPDATE audit_log SET after = '{}' WHERE true`,
			`DELETE FROM audit_log WHERE true`,
			`TRUNCATE audit_log`,
		} {
			_, err := postgres.Scoped(s.service).Exec(ctx, sql)
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
				t.Errorf("as bulwark_app, scope %q: %s: %v, want permission denied (42501)", scope.Scope, sql, err)
			}
		}
	}
	// Nor can staff append a row in someone else's name.
	_, err := postgres.Scoped(s.service).Exec(s.staff,
		`INSERT INTO audit_log (actor_id, action, target_type, target_id, before, after) VALUES ($1, 'order.update', 'order', 'x', '{}', '{}')`, uuid.New())
	if err == nil {
		t.Error("staff wrote an audit row in another actor's name")
	}
	if _, _, rows := s.state(t); len(rows) != 1 {
		t.Errorf("audit rows %q, want the one", rows)
	}
}

// paid moves the stage's order to paid as the superuser: the refund's
// precondition, set without an audit row of its own.
func (s stage) paid(t *testing.T) admin.Order {
	t.Helper()
	if _, err := s.super.Exec(t.Context(), `UPDATE orders SET status = 'paid' WHERE id = $1`, s.order); err != nil {
		t.Fatal(err)
	}
	o, err := s.svc.Get(s.staff, s.order)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func (s stage) refunds(t *testing.T) int {
	t.Helper()
	var n int
	if err := s.super.QueryRow(t.Context(), `SELECT count(*) FROM refunds WHERE order_id = $1`, s.order).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A refund writes exactly one row, refund.issue, with nothing before and
// the refund after; a second refund of the order is refused and writes
// none, nor does a refund of an order that cannot be refunded.
func TestRefundIsAuditedOnce(t *testing.T) {
	s := newStage(t)
	pending, err := s.svc.Get(s.staff, s.order)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Refund(s.staff, s.adminID, pending); !errors.Is(err, admin.ErrNotRefundable) {
		t.Fatalf("refund of a pending order: %v, want ErrNotRefundable", err)
	}
	if _, _, rows := s.state(t); len(rows) != 0 {
		t.Fatalf("a refused refund wrote audit rows %q", rows)
	}
	order := s.paid(t)
	r, err := s.svc.Refund(s.staff, s.adminID, order)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Refund(s.staff, s.adminID, order); !errors.Is(err, admin.ErrAlreadyRefunded) {
		t.Fatalf("second refund: %v, want ErrAlreadyRefunded", err)
	}
	_, _, rows := s.state(t)
	want := s.adminID.String() + " refund.issue " + r.ID.String() +
		` {} → {"reason": "refunded_by_staff", "currency": "EUR", "order_id": "` + s.order.String() + `", "amount_cents": 100}`
	if len(rows) != 1 || rows[0] != want || s.refunds(t) != 1 {
		t.Fatalf("after one refund and a refused second: %d refunds, audit rows:\n%s\nwant one refund and exactly:\n%s", s.refunds(t), strings.Join(rows, "\n"), want)
	}
}

// No refund without its row and no row without its refund: a failure
// after the audit insert rolls the refund back, and a failure of the
// refund's insert leaves no row.
func TestRefundAndItsAuditRowCommitTogether(t *testing.T) {
	for _, tc := range []struct {
		name, trigger string
	}{
		{"failure after the audit insert", `CREATE TRIGGER fail AFTER INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION fail()`},
		{"failure of the refund insert", `CREATE TRIGGER fail AFTER INSERT ON refunds FOR EACH ROW EXECUTE FUNCTION fail()`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStage(t)
			order := s.paid(t)
			for _, sql := range []string{
				`CREATE FUNCTION fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'forced failure'; END $$`,
				tc.trigger,
			} {
				if _, err := s.super.Exec(t.Context(), sql); err != nil {
					t.Fatal(err)
				}
			}
			_, err := s.svc.Refund(s.staff, s.adminID, order)
			if err == nil || !strings.Contains(err.Error(), "forced failure") {
				t.Fatalf("refund: %v, want the forced failure", err)
			}
			if _, _, rows := s.state(t); s.refunds(t) != 0 || len(rows) != 0 {
				t.Fatalf("after a failed refund: %d refunds, audit rows %q; want none of either", s.refunds(t), rows)
			}
		})
	}
}

// Cancelling a paid order refunds it: the change and the refund it makes
// each get their row, in the one transaction.
func TestStaffCancelOfAPaidOrderAuditsItsRefund(t *testing.T) {
	s := newStage(t)
	order := s.paid(t)
	cancelled := orders.StatusCancelled
	if _, err := s.svc.Update(s.staff, s.adminID, order, &cancelled, nil); err != nil {
		t.Fatal(err)
	}
	status, _, rows := s.state(t)
	if status != "cancelled" || s.refunds(t) != 1 || len(rows) != 2 {
		t.Fatalf("order %s, %d refunds, audit rows:\n%s\nwant cancelled, one refund, two rows", status, s.refunds(t), strings.Join(rows, "\n"))
	}
	wantUpdate := s.adminID.String() + " order.update " + s.order.String() + ` {"status": "paid"} → {"status": "cancelled"}`
	if rows[0] != wantUpdate || !strings.Contains(rows[1], " refund.issue ") || !strings.Contains(rows[1], `"reason": "cancelled_by_staff"`) {
		t.Fatalf("audit rows:\n%s\nwant %s, then the refund.issue of the cancellation", strings.Join(rows, "\n"), wantUpdate)
	}
}
