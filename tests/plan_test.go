package tests

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bulwark-dev/bulwark/internal/orders"
	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/postgres/pgtest"
)

// TestListQueriesUseIndexes holds db/queries/orders.sql to its promise:
// every page of every list, customer and staff, in every sort, is one range
// scan of an index that already has the rows in order. No Sort node means a
// page costs the same on page 1 and page 1,000 and with 40 or 40 million
// orders; a Sort or a sequential scan means the cost grows with the table,
// and a list endpoint anyone can call becomes a way to load the database
// (docs/05-sql-injection.md; the keyset design is in orders.sql). The one
// tolerated Sort is bounded by construction: see planProblem.
//
// The queries are read from the .sql file, so the test checks the SQL the
// service runs, and planned both ways pgx may run a prepared statement:
// with a plan for the actual values (custom) and with one plan for any
// values (generic), which PostgreSQL switches to after five executions.
func TestListQueriesUseIndexes(t *testing.T) {
	ctx := t.Context()
	conn, service := planDatabase(t)

	queries := listQueries(t, "../db/queries/orders.sql")
	var owner uuid.UUID
	// The busiest customer: the plan must hold where it matters most.
	if err := conn.QueryRow(ctx, `SELECT owner_id FROM orders GROUP BY owner_id ORDER BY count(*) DESC LIMIT 1`).Scan(&owner); err != nil {
		t.Fatalf("pick an owner: %v", err)
	}

	for _, q := range queries {
		t.Run(q.name, func(t *testing.T) {
			scope := &owner
			runAs(t, service, postgres.Customer(owner))
			if q.admin {
				scope = nil
				runAs(t, service, postgres.Staff(uuid.New()))
			}
			pages := []struct {
				name string
				key  pageKey
			}{
				{"first-page", q.firstPageKey()},
				{"later-page", middleKey(t, conn, q.column, scope)},
			}
			for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
				for _, page := range pages {
					for _, status := range q.statuses() {
						name := fmt.Sprintf("%s/%s/status=%s", strings.TrimPrefix(mode, "force_"), page.name, cmp.Or(status, "any"))
						t.Run(name, func(t *testing.T) {
							args := q.args(t, owner, status, page.key)
							plan := explain(t, service, mode, q.sql, args)
							if problem := planProblem(plan, q); problem != "" {
								t.Errorf("%s with %s, %s, status %q: %s\nplan:\n%s", q.name, mode, page.name, status, problem, plan)
							}
						})
					}
				}
			}
		})
	}
}

// planDatabase connects to a fresh database filled by fillForPlans, as the
// superuser (for fixtures) and as the service's role (for the plans: row-
// level security adds its policies to every statement the service runs,
// and the plans must hold with them).
func planDatabase(t *testing.T) (admin, service *pgx.Conn) {
	t.Helper()
	db := pgtest.New(t)
	connect := func(databaseURL string) *pgx.Conn {
		conn, err := pgx.Connect(t.Context(), databaseURL)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		t.Cleanup(func() { _ = conn.Close(context.Background()) })
		return conn
	}
	admin, service = connect(db.Admin), connect(db.Service)
	fillForPlans(t, admin)
	return admin, service
}

// runAs gives the service's connection an identity for the statements that
// follow, for the whole session: a connection of the test's own, never
// pooled, where the service sends it with each statement instead
// (internal/postgres/scoped.go).
func runAs(t *testing.T, conn *pgx.Conn, id postgres.Identity) {
	t.Helper()
	userID := ""
	if id.UserID != uuid.Nil {
		userID = id.UserID.String()
	}
	if _, err := conn.Exec(t.Context(), `SELECT set_config('bulwark.user_id', $1, false), set_config('bulwark.scope', $2, false)`,
		userID, string(id.Scope)); err != nil {
		t.Fatalf("set identity: %v", err)
	}
}

// fillForPlans loads a data set large and skewed enough that the planner's
// choices are the ones production would see: 200 customers, 40,000 orders
// over a year, most customers with a few dozen orders and some with
// thousands, totals spread widely, statuses in realistic proportions.
func fillForPlans(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	statements := []string{
		`INSERT INTO users (id, email, name, password_hash)
		 SELECT gen_random_uuid(), 'customer' || i || '@example.com', 'Customer ' || i, 'x'
		 FROM generate_series(1, 200) AS i`,
		// power(random(), 3) piles orders onto the first customers: a few
		// heavy buyers, a long tail of light ones.
		`WITH numbered AS MATERIALIZED (
		     SELECT id, row_number() OVER (ORDER BY email) AS n FROM users
		 ), drawn AS MATERIALIZED (
		     SELECT 1 + floor(power(random(), 3) * 200)::int AS n,
		            random() AS r,
		            now() - random() * interval '365 days' AS at,
		            (100 + random() * 250000)::bigint AS total
		     FROM generate_series(1, 40000)
		 )
		 INSERT INTO orders (id, owner_id, status, total_cents, shipping_address, created_at, updated_at)
		 SELECT gen_random_uuid(), numbered.id,
		        CASE WHEN r < 0.10 THEN 'pending' WHEN r < 0.30 THEN 'paid' WHEN r < 0.50 THEN 'shipped'
		             WHEN r < 0.995 THEN 'delivered' ELSE 'cancelled' END,
		        total, '{"name":"x","line1":"x","city":"x","postal_code":"1","country":"US"}', at, at
		 FROM drawn JOIN numbered USING (n)`,
		`ANALYZE`,
	}
	for _, s := range statements {
		if _, err := conn.Exec(t.Context(), s); err != nil {
			t.Fatalf("fill: %v\n%s", err, s)
		}
	}
}

// listQuery is one named list query of orders.sql, with sqlc's macros
// replaced by the numbered parameters sqlc itself generates.
type listQuery struct {
	name   string
	sql    string
	params []string // parameter names; params[0] is $1
	admin  bool
	sort   orders.Sort
	column string // the sort column, from the query's ORDER BY
	cast   string // the type after_value is cast to
}

// querySuffix is how orders.sql names the queries of sort s: its name in
// the API in CamelCase, then Asc or Desc ("-created_at" is CreatedAtDesc).
func querySuffix(s orders.Sort) string {
	name, desc := strings.CutPrefix(string(s), "-")
	var b strings.Builder
	for word := range strings.SplitSeq(name, "_") {
		if word != "" {
			b.WriteString(strings.ToUpper(word[:1]) + word[1:])
		}
	}
	if desc {
		return b.String() + "Desc"
	}
	return b.String() + "Asc"
}

// listQueries reads the customer and staff list queries from path. It
// fails if either audience lacks a query for one of the sorts the service
// accepts (orders.Sorts), so a query renamed out of the test's sight is
// noticed, and a new sort is planned without teaching this test.
func listQueries(t *testing.T, path string) []listQuery {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read queries: %v", err)
	}
	header := regexp.MustCompile(`(?m)^-- name: (\w+) :\w+[ \t]*$`)
	arg := regexp.MustCompile(`sqlc\.arg\((\w+)\)`)
	orderBy := regexp.MustCompile(`ORDER BY (?:\w+\.)?(\w+) (?:ASC|DESC)`)
	cast := regexp.MustCompile(`sqlc\.arg\(after_value\)::(\w+)`)
	sorts := map[string]orders.Sort{}
	for _, s := range orders.Sorts() {
		sorts[querySuffix(s)] = s
	}
	var out []listQuery
	seen := map[string]bool{}
	bounds := header.FindAllSubmatchIndex(src, -1)
	for i, b := range bounds {
		name := string(src[b[2]:b[3]])
		end := len(src)
		if i+1 < len(bounds) {
			end = bounds[i+1][0]
		}
		var suffix string
		var admin bool
		switch {
		case strings.HasPrefix(name, "ListOrdersForOwner"):
			suffix = strings.TrimPrefix(name, "ListOrdersForOwner")
		case strings.HasPrefix(name, "AdminListOrders"):
			suffix, admin = strings.TrimPrefix(name, "AdminListOrders"), true
		default:
			continue
		}
		sort, ok := sorts[strings.TrimPrefix(suffix, "WithStatus")]
		if !ok {
			t.Fatalf("%s: %q names no sort the service accepts (orders.Sorts; the naming rule is at the top of orders.sql)", name, suffix)
		}
		// The comments between queries belong to the next one; drop them.
		var lines []string
		for line := range strings.SplitSeq(string(src[b[1]:end]), "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "--") {
				lines = append(lines, line)
			}
		}
		body := strings.TrimSuffix(strings.TrimSpace(strings.Join(lines, "\n")), ";")
		column, castTo := orderBy.FindStringSubmatch(body), cast.FindStringSubmatch(body)
		if column == nil || castTo == nil {
			t.Fatalf("%s has no ORDER BY column or no sqlc.arg(after_value)::type:\n%s", name, body)
		}
		// sqlc numbers parameters by first appearance; a name used twice
		// (status) is one parameter.
		var params []string
		body = arg.ReplaceAllStringFunc(body, func(m string) string {
			p := arg.FindStringSubmatch(m)[1]
			for i, known := range params {
				if known == p {
					return fmt.Sprintf("$%d", i+1)
				}
			}
			params = append(params, p)
			return fmt.Sprintf("$%d", len(params))
		})
		if strings.Contains(body, "sqlc.") {
			t.Fatalf("%s uses a sqlc macro this test does not translate:\n%s", name, body)
		}
		out = append(out, listQuery{name: name, sql: body, params: params, admin: admin, sort: sort, column: column[1], cast: castTo[1]})
		seen[name] = true
	}
	for suffix := range sorts {
		for _, prefix := range []string{"ListOrdersForOwner", "ListOrdersForOwnerWithStatus", "AdminListOrders", "AdminListOrdersWithStatus"} {
			if !seen[prefix+suffix] {
				t.Fatalf("%s has no query %s%s", path, prefix, suffix)
			}
		}
	}
	return out
}

// pageLimit is what the service asks for: a page of 20 and one more row to
// learn whether there is a next page.
const pageLimit = 21

// statuses are the filter values to plan q with: none for an unfiltered
// query; for a filtered one a common status and a rare one (0.5% of
// orders), where a plan that filters instead of ranging would read most of
// the table to fill a page.
func (q listQuery) statuses() []string {
	if slices.Contains(q.params, "status") {
		return []string{"paid", "cancelled"}
	}
	return []string{""}
}

// pageKey is where a page starts: the sort column's value, as the query
// binds it, and the id.
type pageKey struct {
	value any
	id    uuid.UUID
}

// firstPageKey is what the service binds for the first page of q's sort:
// orders.FirstPageKey, whose value is an integer, microseconds for a time.
func (q listQuery) firstPageKey() pageKey {
	k := orders.FirstPageKey(q.sort)
	if q.cast == "timestamptz" {
		return pageKey{time.UnixMicro(k.Value).UTC(), k.ID}
	}
	return pageKey{k.Value, k.ID}
}

// args gives each parameter of q its value, by name.
func (q listQuery) args(t *testing.T, owner uuid.UUID, status string, key pageKey) []any {
	t.Helper()
	args := make([]any, 0, len(q.params))
	for _, p := range q.params {
		switch p {
		case "owner_id":
			args = append(args, owner)
		case "status":
			args = append(args, status)
		case "after_value":
			args = append(args, key.value)
		case "after_id":
			args = append(args, key.id)
		case "page_limit":
			args = append(args, pageLimit)
		default:
			t.Fatalf("%s: no value for parameter %q; teach this test", q.name, p)
		}
	}
	return args
}

// middleKey is the key of the row halfway down column, among owner's
// orders or, with a nil owner, among all: where a later page starts.
func middleKey(t *testing.T, conn *pgx.Conn, column string, owner *uuid.UUID) pageKey {
	t.Helper()
	// column is a word read from orders.sql's ORDER BY, never input.
	sql := `SELECT ` + column + `, id FROM orders
	        WHERE $1::uuid IS NULL OR owner_id = $1
	        ORDER BY ` + column + `, id
	        OFFSET (SELECT count(*) / 2 FROM orders WHERE $1::uuid IS NULL OR owner_id = $1) LIMIT 1`
	var k pageKey
	if err := conn.QueryRow(t.Context(), sql, owner).Scan(&k.value, &k.id); err != nil {
		t.Fatalf("middle key: %v", err)
	}
	return k
}

// explain prepares sql as a named statement and returns the plan
// PostgreSQL makes for executing it with args under plan_cache_mode mode.
func explain(t *testing.T, conn *pgx.Conn, mode, sql string, args []any) *planNode {
	t.Helper()
	ctx := t.Context()
	if _, err := conn.Exec(ctx, "SET plan_cache_mode = "+mode); err != nil {
		t.Fatalf("set %s: %v", mode, err)
	}
	if _, err := conn.Exec(ctx, "PREPARE list_page AS "+sql); err != nil {
		t.Fatalf("prepare: %v\n%s", err, sql)
	}
	defer func() {
		if _, err := conn.Exec(context.Background(), "DEALLOCATE list_page"); err != nil {
			t.Errorf("deallocate: %v", err)
		}
	}()
	literals := make([]string, len(args))
	for i, a := range args {
		literals[i] = literal(a)
	}
	// EXECUTE takes no bind parameters inside EXPLAIN; the values are
	// literals the test made itself.
	var out string
	stmt := "EXPLAIN (FORMAT JSON) EXECUTE list_page(" + strings.Join(literals, ", ") + ")"
	if err := conn.QueryRow(ctx, stmt, pgx.QueryExecModeSimpleProtocol).Scan(&out); err != nil {
		t.Fatalf("explain: %v\n%s", err, stmt)
	}
	var plans []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(out), &plans); err != nil || len(plans) != 1 {
		t.Fatalf("decode plan (%v): %s", err, out)
	}
	return &plans[0].Plan
}

// literal renders a test value as an SQL string literal; the prepared
// statement's parameter types decide how PostgreSQL reads it.
func literal(v any) string {
	var s string
	switch v := v.(type) {
	case time.Time:
		s = v.UTC().Format("2006-01-02 15:04:05.999999") + "+00"
	default:
		s = fmt.Sprint(v)
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// planNode is the part of EXPLAIN's JSON this test reads.
type planNode struct {
	NodeType  string     `json:"Node Type"`
	Direction string     `json:"Scan Direction"`
	Relation  string     `json:"Relation Name"`
	Index     string     `json:"Index Name"`
	IndexCond string     `json:"Index Cond"`
	Filter    string     `json:"Filter"`
	Rows      float64    `json:"Plan Rows"`
	Plans     []planNode `json:"Plans"`
}

func (n *planNode) walk(visit func(*planNode)) {
	visit(n)
	for i := range n.Plans {
		n.Plans[i].walk(visit)
	}
}

// String is the plan one node a line, indented, with the index, its
// condition and the filter: enough to see why a plan was chosen.
func (n *planNode) String() string {
	var b strings.Builder
	var write func(*planNode, int)
	write = func(n *planNode, depth int) {
		fmt.Fprintf(&b, "%s%s", strings.Repeat("  ", depth+1), n.NodeType)
		if n.Index != "" {
			fmt.Fprintf(&b, " %s using %s", n.Direction, n.Index)
		}
		if n.Relation != "" {
			fmt.Fprintf(&b, " on %s", n.Relation)
		}
		if n.IndexCond != "" {
			fmt.Fprintf(&b, " cond %s", n.IndexCond)
		}
		if n.Filter != "" {
			fmt.Fprintf(&b, " filter %s", n.Filter)
		}
		b.WriteString("\n")
		for i := range n.Plans {
			write(&n.Plans[i], depth+1)
		}
	}
	write(n, 0)
	return strings.TrimRight(b.String(), "\n")
}

// planProblem says what is wrong with plan for q, or "". The orders must
// come from an index scan on orders whose condition holds the keyset range
// (the sort column), and for a customer list the owner: an index that
// merely has the right order, scanned from its start with the owner as a
// filter, also avoids a Sort but reads every customer's orders to find one
// customer's page.
func planProblem(plan *planNode, q listQuery) string {
	column := q.column
	var sorted, ranged bool
	plan.walk(func(n *planNode) {
		switch n.NodeType {
		case "Sort", "Incremental Sort":
			// One exception, and a bounded one: when the planner expects
			// only a handful of rows in the whole range (a rare status of
			// one customer), it may fetch them through the same index as a
			// bitmap and sort those few, which is cheaper than walking the
			// index in order. The range condition below is still required.
			if len(n.Plans) == 1 && n.Plans[0].NodeType == "Bitmap Heap Scan" && n.Plans[0].Rows <= 2*pageLimit {
				return
			}
			sorted = true
		case "Index Scan", "Index Only Scan", "Bitmap Index Scan":
			// A Bitmap Index Scan names only its index, not the table.
			if (n.Relation == "orders" || strings.HasPrefix(n.Index, "orders_")) && strings.Contains(n.IndexCond, column) &&
				(q.admin || strings.Contains(n.IndexCond, "owner_id")) &&
				(!slices.Contains(q.params, "status") || strings.Contains(n.IndexCond, "status")) {
				ranged = true
			}
		}
	})
	switch {
	case sorted:
		return "the rows are sorted per request instead of read in index order"
	case !ranged && q.admin:
		return fmt.Sprintf("no index range scan of orders on (%s, id)", column)
	case !ranged:
		return fmt.Sprintf("no index range scan of orders on (owner_id[, status], %s, id)", column)
	}
	return ""
}

// TestPageItemsAreFetchedByID holds the items query of a page
// (ListOrderItemsForOwner) to the same promise as the lists: its cost is
// the page's, not the customer's. For the busiest customer, in custom and
// generic plans, every read of orders must go through its primary key, by
// the page's ids; a plan that reached orders through owner_id would read
// every order the customer has to find twenty (the bench measured 1.4× for
// a customer with 10,000 orders against one with 100 before the query was
// written to prevent it; see the query's comment in orders.sql).
func TestPageItemsAreFetchedByID(t *testing.T) {
	ctx := t.Context()
	conn, service := planDatabase(t)
	// Many customers with one order each make the planner's estimate of
	// "the orders of an owner" small, as in a real shop with a long tail:
	// that is when reaching orders through owner_id looks cheap to a
	// generic plan, and is not for the busiest customer.
	if _, err := conn.Exec(ctx, `
		INSERT INTO users (id, email, name, password_hash)
		SELECT gen_random_uuid(), 'tail' || i || '@example.com', 'Tail ' || i, 'x' FROM generate_series(1, 20000) AS i;
		INSERT INTO orders (id, owner_id, total_cents, shipping_address)
		SELECT gen_random_uuid(), id, 100, '{}' FROM users WHERE email LIKE 'tail%';
		INSERT INTO products (id, sku, name, price_cents) VALUES ('00000000-0000-4000-8000-0000000000aa', 'plan-sku', 'Plan', 100);
		INSERT INTO order_items (order_id, line, product_id, name, quantity, unit_price_cents)
		SELECT id, l, '00000000-0000-4000-8000-0000000000aa', 'Plan', 1, 100 FROM orders, generate_series(1, 2) AS l;
		ANALYZE`); err != nil {
		t.Fatalf("fill items: %v", err)
	}
	var owner uuid.UUID
	var page []string
	if err := conn.QueryRow(ctx, `SELECT owner_id FROM orders GROUP BY owner_id ORDER BY count(*) DESC LIMIT 1`).Scan(&owner); err != nil {
		t.Fatalf("pick an owner: %v", err)
	}
	if err := conn.QueryRow(ctx, `SELECT array_agg(id::text) FROM (SELECT id FROM orders WHERE owner_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2) AS p`,
		owner, pageLimit).Scan(&page); err != nil {
		t.Fatalf("pick a page: %v", err)
	}

	src, err := os.ReadFile("../db/queries/orders.sql")
	if err != nil {
		t.Fatalf("read queries: %v", err)
	}
	block := regexp.MustCompile(`(?s)-- name: ListOrderItemsForOwner :many\n(.*?);`).FindSubmatch(src)
	if block == nil {
		t.Fatal("orders.sql has no ListOrderItemsForOwner query")
	}
	var lines []string
	for line := range strings.SplitSeq(string(block[1]), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			lines = append(lines, line)
		}
	}
	sql := strings.NewReplacer("sqlc.arg(order_ids)", "$1", "sqlc.arg(owner_id)", "$2").Replace(strings.Join(lines, "\n"))
	args := []any{"{" + strings.Join(page, ",") + "}", owner}
	runAs(t, service, postgres.Customer(owner))

	for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
		t.Run(strings.TrimPrefix(mode, "force_"), func(t *testing.T) {
			plan := explain(t, service, mode, sql, args)
			plan.walk(func(n *planNode) {
				if n.Relation == "orders" && n.Index != "orders_pkey" {
					t.Errorf("orders read by %s %q (condition %q), not by primary key: the page's cost grows with the customer's orders\nplan:\n%s",
						n.NodeType, n.Index, n.IndexCond, plan)
				}
			})
		})
	}
}
