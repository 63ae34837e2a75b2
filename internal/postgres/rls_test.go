package postgres_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bulwark-dev/bulwark/internal/db"
	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// fixture is two customers and an admin, each customer with an order, a
// line, a file and a refresh token, written as the superuser.
type fixture struct {
	db                   pgtest.Database
	alice, bob, admin    uuid.UUID
	aliceOrder, bobOrder uuid.UUID
	aliceFile, bobFile   uuid.UUID
	aliceToken, bobToken []byte
	product              uuid.UUID
	service              *pgxpool.Pool // the service's role, as the server connects
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	f := fixture{
		db:    pgtest.New(t),
		alice: uuid.New(), bob: uuid.New(), admin: uuid.New(),
		aliceOrder: uuid.New(), bobOrder: uuid.New(), aliceFile: uuid.New(), bobFile: uuid.New(),
		product:    uuid.New(),
		aliceToken: make([]byte, 32), bobToken: make([]byte, 32),
	}
	f.aliceToken[0], f.bobToken[0] = 1, 2
	admin := open(t, f.db.Admin, postgres.Options{})
	ctx := t.Context()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := admin.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("fixture %q: %v", sql, err)
		}
	}
	for _, u := range []struct {
		id          uuid.UUID
		email, role string
	}{{f.alice, "alice@example.com", "customer"}, {f.bob, "bob@example.com", "customer"}, {f.admin, "admin@example.com", "admin"}} {
		exec(`INSERT INTO users (id, email, name, password_hash, role) VALUES ($1, $2, 'Someone', 'x', $3)`, u.id, u.email, u.role)
	}
	exec(`INSERT INTO products (id, sku, name, price_cents) VALUES ($1, 'SKU-1', 'Thing', 100)`, f.product)
	for _, o := range []struct{ order, owner, file uuid.UUID }{{f.aliceOrder, f.alice, f.aliceFile}, {f.bobOrder, f.bob, f.bobFile}} {
		exec(`INSERT INTO orders (id, owner_id, total_cents, shipping_address) VALUES ($1, $2, 100, '{}')`, o.order, o.owner)
		exec(`INSERT INTO order_items (order_id, line, product_id, name, quantity, unit_price_cents) VALUES ($1, 1, $2, 'Thing', 1, 100)`, o.order, f.product)
		exec(`INSERT INTO files (id, order_id, owner_id, object_key, original_name, content_type, size_bytes, sha256)
			VALUES ($1, $2, $3, $4, 'a.txt', 'text/plain', 1, $5)`, o.file, o.order, o.owner, "key-"+o.file.String(), make([]byte, 32))
	}
	exec(`INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at) VALUES ($1, $2, $3, now() + interval '1 hour')`, f.aliceToken, f.alice, uuid.New())
	exec(`INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at) VALUES ($1, $2, $3, now() + interval '1 hour')`, f.bobToken, f.bob, uuid.New())
	f.service = open(t, f.db.Service, postgres.Options{})
	return f
}

// ids runs a query with no owner condition at all, test-only SQL, through
// the service's normal database path: postgres.Scoped on the service's
// pool, as every store does.
func ids(t *testing.T, ctx context.Context, db interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, sql string,
) []uuid.UUID {
	t.Helper()
	rows, err := db.Query(ctx, sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	slices.SortFunc(got, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	return got
}

func sorted(ids ...uuid.UUID) []uuid.UUID {
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	if out == nil {
		out = []uuid.UUID{}
	}
	return out
}

// The proof of the second wall: SQL that forgets the owner entirely, run as
// bob, returns bob's rows and nothing of alice's; run with no identity, it
// returns nothing at all.
func TestRowLevelSecurityWithoutOwnerCondition(t *testing.T) {
	f := newFixture(t)
	db := postgres.Scoped(f.service)
	bob := postgres.WithIdentity(t.Context(), postgres.Customer(f.bob))
	nobody := t.Context()
	staff := postgres.WithIdentity(t.Context(), postgres.Staff(f.admin))
	signIn := postgres.WithIdentity(t.Context(), postgres.SignIn())
	link := postgres.WithIdentity(t.Context(), postgres.SignedLink())

	queries := map[string]string{
		"orders":         `SELECT id FROM orders`,
		"order_items":    `SELECT order_id FROM order_items`,
		"files":          `SELECT id FROM files`,
		"users":          `SELECT id FROM users`,
		"refresh_tokens": `SELECT user_id FROM refresh_tokens`,
	}
	cases := []struct {
		name string
		ctx  context.Context
		want map[string][]uuid.UUID
	}{
		{"bob sees his own rows only", bob, map[string][]uuid.UUID{
			"orders": {f.bobOrder}, "order_items": {f.bobOrder}, "files": {f.bobFile}, "users": {f.bob}, "refresh_tokens": nil,
		}},
		{"no identity sees nothing", nobody, map[string][]uuid.UUID{}},
		{"staff read every order and account, no file or token", staff, map[string][]uuid.UUID{
			"orders": {f.aliceOrder, f.bobOrder}, "order_items": {f.aliceOrder, f.bobOrder}, "users": {f.alice, f.bob, f.admin},
		}},
		{"sign-in reads accounts and tokens, no order or file", signIn, map[string][]uuid.UUID{
			"users": {f.alice, f.bob, f.admin}, "refresh_tokens": {f.alice, f.bob},
		}},
		{"a signed link reads files, nothing else", link, map[string][]uuid.UUID{
			"files": {f.aliceFile, f.bobFile},
		}},
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
}

// Writes are held to the same policies: bob cannot change, cancel or add
// to alice's order, nor create an order in her name, even with SQL that
// names her rows by id alone.
func TestRowLevelSecurityRefusesForeignWrites(t *testing.T) {
	f := newFixture(t)
	db := postgres.Scoped(f.service)
	bob := postgres.WithIdentity(t.Context(), postgres.Customer(f.bob))

	tag, err := db.Exec(bob, `UPDATE orders SET note = 'redirected by bob' WHERE id = $1`, f.aliceOrder)
	if err != nil || tag.RowsAffected() != 0 {
		t.Errorf("bob's update of alice's order: %v rows, %v; want 0 rows", tag.RowsAffected(), err)
	}
	tag, err = db.Exec(bob, `DELETE FROM files WHERE id = $1`, f.aliceFile)
	if err != nil || tag.RowsAffected() != 0 {
		t.Errorf("bob's delete of alice's file: %v rows, %v; want 0 rows", tag.RowsAffected(), err)
	}
	for name, sql := range map[string]string{
		"order in alice's name": `INSERT INTO orders (id, owner_id, total_cents, shipping_address) VALUES (gen_random_uuid(), $1, 1, '{}')`,
		"line in alice's order": `INSERT INTO order_items (order_id, line, product_id, name, quantity, unit_price_cents)
			SELECT $1, 2, id, 'Thing', 1, 1 FROM products`,
		"file on alice's order": `INSERT INTO files (id, order_id, owner_id, object_key, original_name, content_type, size_bytes, sha256)
			VALUES (gen_random_uuid(), $1, $1, 'k', 'a', 'text/plain', 1, '\x00')`,
	} {
		arg := f.alice
		if name != "order in alice's name" {
			arg = f.aliceOrder
		}
		if _, err := db.Exec(bob, sql, arg); !isPolicyViolation(err) {
			t.Errorf("%s: %v, want a row-level security violation (42501)", name, err)
		}
	}
	// Registration creates customers only.
	signIn := postgres.WithIdentity(t.Context(), postgres.SignIn())
	_, err = db.Exec(signIn, `INSERT INTO users (id, email, name, password_hash, role) VALUES (gen_random_uuid(), 'mallory@example.com', 'M', 'x', 'admin')`)
	if !isPolicyViolation(err) {
		t.Errorf("an admin created in the sign-in scope: %v, want a row-level security violation", err)
	}

	var note string
	admin := open(t, f.db.Admin, postgres.Options{})
	if err := admin.QueryRow(t.Context(), `SELECT note FROM orders WHERE id = $1`, f.aliceOrder).Scan(&note); err != nil || note != "" {
		t.Errorf("alice's note is %q (%v), want it unchanged", note, err)
	}
}

func isPolicyViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42501"
}

// A pool of ONE connection serves alice and bob in turn: each sees only
// their own order, and the connection, used afterwards with no identity,
// carries neither of theirs. The settings are transaction-local, so they
// vanish with each statement's implicit transaction (or WithTx's).
func TestPooledConnectionForgetsTheIdentity(t *testing.T) {
	f := newFixture(t)
	one := open(t, withPoolSize(t, f.db.Service, 1), postgres.Options{})
	db := postgres.Scoped(one)
	as := map[uuid.UUID]context.Context{
		f.alice: postgres.WithIdentity(t.Context(), postgres.Customer(f.alice)),
		f.bob:   postgres.WithIdentity(t.Context(), postgres.Customer(f.bob)),
	}
	own := map[uuid.UUID]uuid.UUID{f.alice: f.aliceOrder, f.bob: f.bobOrder}
	var backends []uint32
	for round := range 3 {
		for _, user := range []uuid.UUID{f.alice, f.bob} {
			if got, want := ids(t, as[user], db, `SELECT id FROM orders`), sorted(own[user]); !slices.Equal(got, want) {
				t.Errorf("round %d: %s sees %v, want %v", round, user, got, want)
			}
			// The same, inside an explicit transaction.
			err := postgres.WithTx(as[user], one, func(tx pgx.Tx) error {
				if got, want := ids(t, as[user], tx, `SELECT id FROM orders`), sorted(own[user]); !slices.Equal(got, want) {
					t.Errorf("round %d: %s sees %v in a transaction, want %v", round, user, got, want)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// The next user of the connection, with no identity, gets
			// nothing: not through the scoped path, not through the pool.
			if got := ids(t, t.Context(), db, `SELECT id FROM orders`); len(got) != 0 {
				t.Errorf("round %d: after %s, a request with no identity sees %v", round, user, got)
			}
			var leftover string
			var pid uint32
			if err := one.QueryRow(t.Context(), `SELECT coalesce(current_setting('bulwark.user_id', true), ''), pg_backend_pid()`).Scan(&leftover, &pid); err != nil {
				t.Fatal(err)
			}
			if leftover != "" {
				t.Errorf("round %d: the connection still carries user %s after %s's statements", round, leftover, user)
			}
			backends = append(backends, pid)
		}
	}
	slices.Sort(backends)
	if len(slices.Compact(backends)) != 1 {
		t.Errorf("the statements ran on backends %v, want one: the test did not share a connection", backends)
	}
}

// withPoolSize sets pgxpool's pool_max_conns on a URL.
func withPoolSize(t *testing.T, databaseURL string, n int) string {
	t.Helper()
	u, err := url.Parse(databaseURL)
	if err != nil {
		t.Fatal("bad database URL")
	}
	q := u.Query()
	q.Set("pool_max_conns", strconv.Itoa(n))
	u.RawQuery = q.Encode()
	return u.String()
}

// The maintenance scope is the owner's alone: the seed's pool sees every
// row as the owner, and the service's role asking for it sees none.
func TestMaintenanceScopeIsTheOwners(t *testing.T) {
	f := newFixture(t)
	owner := open(t, f.db.Owner, postgres.Options{Maintenance: true})
	if got, want := ids(t, t.Context(), owner, `SELECT id FROM orders`), sorted(f.aliceOrder, f.bobOrder); !slices.Equal(got, want) {
		t.Errorf("the owner in the maintenance scope sees %v, want every order %v", got, want)
	}
	plainOwner := open(t, f.db.Owner, postgres.Options{})
	if got := ids(t, t.Context(), plainOwner, `SELECT id FROM orders`); len(got) != 0 {
		t.Errorf("the owner without a scope sees %v, want nothing (FORCE ROW LEVEL SECURITY)", got)
	}
	service := open(t, f.db.Service, postgres.Options{Maintenance: true})
	if got := ids(t, t.Context(), service, `SELECT id FROM orders`); len(got) != 0 {
		t.Errorf("the service's role in the maintenance scope sees %v, want nothing", got)
	}
}

// CheckServiceRole accepts the service's role and names the fix for every
// role that row-level security would not bind.
func TestCheckServiceRole(t *testing.T) {
	f := newFixture(t)
	admin := open(t, f.db.Admin, postgres.Options{})
	u, _ := url.Parse(f.db.Admin)
	bypasser := "bypasser_" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	for _, sql := range []string{
		"CREATE ROLE " + bypasser + " LOGIN BYPASSRLS PASSWORD 'bypass-password-1'",
		"GRANT " + postgres.ServiceRole + " TO " + bypasser,
	} {
		if _, err := admin.Exec(t.Context(), sql); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP ROLE IF EXISTS "+bypasser) })
	u.User = url.UserPassword(bypasser, "bypass-password-1")

	cases := []struct {
		name, url, want string
	}{
		{"service role", f.db.Service, ""},
		{"superuser", f.db.Admin, "is a superuser"},
		{"owner", f.db.Owner, "owns the tables"},
		{"BYPASSRLS", u.String(), "has BYPASSRLS"},
	}
	// The service's role on a database the migrations have not reached.
	unmigrated, _ := url.Parse(f.db.Service)
	unmigrated.Path = "/postgres"
	cases = append(cases, struct{ name, url, want string }{"unmigrated", unmigrated.String(), "run the migrations"})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pool := open(t, c.url, postgres.Options{})
			err := postgres.CheckServiceRole(t.Context(), pool)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("got %v, want an error saying %q", err, c.want)
			case c.want != "" && c.name != "unmigrated" && !strings.Contains(err.Error(), postgres.ServiceRole):
				t.Errorf("%v does not name the fix (%s)", err, postgres.ServiceRole)
			}
		})
	}
}

func open(t *testing.T, databaseURL string, opts postgres.Options) *pgxpool.Pool {
	t.Helper()
	pool, err := postgres.Open(t.Context(), databaseURL, opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// The service's connections plan each statement once (plan_cache_mode in
// Open): after many executions of the page items' query, the
// connection has used its generic plan every time and planned no custom
// one. Left to auto, PostgreSQL plans the first five executions afresh
// here (the test then fails: 15 generic, 5 custom), and on the benchmark's
// data set it kept doing so for every execution; under row-level security
// each plan expands the policies.
func TestServiceConnectionsReuseTheirPlans(t *testing.T) {
	f := newFixture(t)
	one := open(t, withPoolSize(t, f.db.Service, 1), postgres.Options{})
	q := db.New(postgres.Scoped(one))
	ctx := postgres.WithIdentity(t.Context(), postgres.Customer(f.alice))
	for range 20 {
		items, err := q.ListOrderItemsForOwner(ctx, db.ListOrderItemsForOwnerParams{OrderIds: []uuid.UUID{f.aliceOrder, f.bobOrder}, OwnerID: f.alice})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.OrderID != f.aliceOrder {
				t.Fatalf("alice got a line of order %s", it.OrderID)
			}
		}
	}
	var generic, custom int64
	err := one.QueryRow(t.Context(), `SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement ILIKE '%FROM order_items oi%'`).Scan(&generic, &custom)
	if err != nil {
		t.Fatalf("find the items query among the connection's prepared statements: %v", err)
	}
	if custom != 0 || generic < 20 {
		t.Errorf("items query: %d generic plans, %d custom plans over 20 executions; want 20 generic, 0 custom", generic, custom)
	}
}

// Ids travel as uuid.UUID both ways, alone, in arrays and as NULL, on the
// codec Open registers (uuid.go).
func TestUUIDsRoundTrip(t *testing.T) {
	f := newFixture(t)
	pool := open(t, f.db.Service, postgres.Options{})
	want, list := uuid.New(), []uuid.UUID{uuid.New(), uuid.New()}
	var got, zero uuid.UUID
	var gotList []uuid.UUID
	var null *uuid.UUID
	err := pool.QueryRow(t.Context(), `SELECT $1::uuid, $2::uuid[], NULL::uuid, NULL::uuid, $1::uuid::text`, want, list).
		Scan(&got, &gotList, &null, &zero, new(string))
	if err != nil {
		t.Fatal(err)
	}
	if got != want || !slices.Equal(gotList, list) || null != nil || zero != uuid.Nil {
		t.Errorf("got %v %v %v %v, want %v %v <nil> %v", got, gotList, null, zero, want, list, uuid.Nil)
	}
	var text string
	if err := pool.QueryRow(t.Context(), `SELECT $1::uuid::text`, want).Scan(&text); err != nil || text != want.String() {
		t.Errorf("the id as PostgreSQL reads it: %q, %v; want %q", text, err, want)
	}
}
