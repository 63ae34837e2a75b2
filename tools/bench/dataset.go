package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bulwark-dev/bulwark/internal/auth"
)

// Dataset is the shape of the seeded data. Ids are derived from small
// integers (order n, user u), so the load generator and the pgbench script
// can pick a random order and its owner without a lookup that the API does
// not do. No defence relies on an id being unguessable (docs/01-bola.md), so
// predictable ids change nothing about what is measured.
type Dataset struct {
	Users          int // user 0..Heavy-1 are heavy, the rest regular
	Heavy          int // users with HeavyOrders orders each
	HeavyOrders    int
	RegularOrders  int // orders of each regular user
	ItemsPerOrder  int
	Products       int
	Password       string // every user's password (one argon2id hash, computed once)
	VictimPassword string // never valid: the brute force guesses it
}

// Orders of a regular user u are n = u*RegularOrders + k; those of heavy
// user h follow all of them: n = Users*RegularOrders + h*HeavyOrders + k.
// Regular user numbers start at Heavy, so the two ranges never overlap.

// FirstRegularOrder and LastRegularOrder bound the orders of regular users.
func (d Dataset) FirstRegularOrder() int { return d.Heavy * d.RegularOrders }
func (d Dataset) LastRegularOrder() int  { return d.Users*d.RegularOrders - 1 }

// OwnerOf is the regular user who owns regular order n.
func (d Dataset) OwnerOf(n int) int { return n / d.RegularOrders }

// HeavyOrder is the k-th order of heavy user h.
func (d Dataset) HeavyOrder(h, k int) int { return d.Users*d.RegularOrders + h*d.HeavyOrders + k }

// TotalOrders is the number of orders seeded.
func (d Dataset) TotalOrders() int {
	return (d.Users-d.Heavy)*d.RegularOrders + d.Heavy*d.HeavyOrders
}

// Id kinds: the first byte of the UUID. The rest is a valid version-4
// layout with the number in the last six bytes, so that SQL can build the
// same id: ('b0000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid.
const (
	kindUser    = 0xa0
	kindOrder   = 0xb0
	kindProduct = 0xc0
	kindSession = 0xd0
)

func benchID(kind byte, n int) uuid.UUID {
	var id uuid.UUID
	id[0] = kind
	id[6] = 0x40 // version 4
	id[8] = 0x80 // RFC 4122 variant
	var num [8]byte
	binary.BigEndian.PutUint64(num[:], uint64(n)) //nolint:gosec // n is a small non-negative row number.
	copy(id[10:], num[2:])
	return id
}

// sqlID is the SQL expression that builds benchID(kind, :param) in pgbench.
func sqlID(kind byte, param string) string {
	return fmt.Sprintf("('%02x000000-0000-4000-8000-' || lpad(to_hex(%s::bigint), 12, '0'))::uuid", kind, param)
}

func userID(u int) uuid.UUID  { return benchID(kindUser, u) }
func orderID(n int) uuid.UUID { return benchID(kindOrder, n) }

// sessionID is user u's refresh family, the session their token names.
func sessionID(u int) uuid.UUID { return benchID(kindSession, u) }

func userEmail(u int) string { return fmt.Sprintf("user%06d@bench.test", u) }

// epoch is when the first seeded order was placed; each later one a second
// after the previous.
func epoch() time.Time { return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) }

// Seed loads the dataset with COPY. Orders are inserted round by round
// (each user's k-th order, then everyone's k+1-th), so one customer's
// orders are spread over the whole table as they are in a real shop, and
// a page of them costs as many heap pages as it would in production.
//
// Bulk-load practice from the PostgreSQL manual ("Populating a
// Database"): the secondary indexes and foreign keys of orders and
// order_items are dropped, the two tables are copied in parallel, and the
// very same indexes and constraints (their definitions read back from the
// catalog) are rebuilt at the end, which is several times faster than
// maintaining them row by row.
func Seed(ctx context.Context, databaseURL string, d Dataset, progress func(string)) error {
	conns := make([]*pgx.Conn, 2)
	for i := range conns {
		c, err := pgx.Connect(ctx, databaseURL)
		if err != nil {
			return fmt.Errorf("connect: %w", err)
		}
		defer func() { _ = c.Close(context.WithoutCancel(ctx)) }()
		conns[i] = c
	}
	began := time.Now()
	prices, err := seedUsersAndProducts(ctx, conns[0], d)
	if err != nil {
		return err
	}
	rebuild, err := dropForBulkLoad(ctx, conns[0], "orders", "order_items")
	if err != nil {
		return err
	}
	errs := make(chan error, 2)
	go func() { errs <- copyOrders(ctx, conns[0], d, prices) }()
	go func() { errs <- copyItems(ctx, conns[1], d, prices) }()
	for range 2 {
		if err := <-errs; err != nil {
			return err
		}
	}
	progress(fmt.Sprintf("copied %d users, %d orders and %d order items in %s", d.Users, d.TotalOrders(), d.TotalOrders()*d.ItemsPerOrder,
		time.Since(began).Round(time.Second)))
	// Indexes build two at a time, one per connection; the constraints
	// need them, so they come after.
	for i := range 2 {
		go func() {
			for j := i; j < len(rebuild.indexes); j += 2 {
				if _, err := conns[i].Exec(ctx, rebuild.indexes[j]); err != nil {
					errs <- fmt.Errorf("rebuild index: %w", err)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			return err
		}
	}
	for _, stmt := range rebuild.constraints {
		if _, err := conns[0].Exec(ctx, stmt); err != nil {
			return fmt.Errorf("rebuild constraint: %w", err)
		}
	}
	// Fresh statistics, as autovacuum would gather after a bulk load: the
	// planner must see a table of this size, not an empty one.
	if _, err := conns[0].Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return fmt.Errorf("vacuum analyze: %w", err)
	}
	progress(fmt.Sprintf("rebuilt %d indexes and %d foreign keys, analyzed; seeding took %s", len(rebuild.indexes), len(rebuild.constraints),
		time.Since(began).Round(time.Second)))
	return nil
}

func seedUsersAndProducts(ctx context.Context, conn *pgx.Conn, d Dataset) ([]int64, error) {
	hasher, err := auth.NewHasher(auth.OWASPParams(), 1)
	if err != nil {
		return nil, err
	}
	hash, err := hasher.Hash(ctx, d.Password)
	if err != nil {
		return nil, fmt.Errorf("hash the bench password: %w", err)
	}
	u := 0
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"users"}, []string{"id", "email", "name", "password_hash", "role"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if u == d.Users {
				return nil, nil
			}
			row := []any{userID(u), userEmail(u), fmt.Sprintf("Bench User %d", u), hash, auth.RoleCustomer}
			u++
			return row, nil
		})); err != nil {
		return nil, fmt.Errorf("copy users: %w", err)
	}
	// Each user's session, which the access tokens issueTokens mints name:
	// the service refuses a token whose refresh family is not live.
	u = 0
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"refresh_tokens"}, []string{"token_hash", "user_id", "family_id", "expires_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if u == d.Users {
				return nil, nil
			}
			sum := sha256.Sum256([]byte(sessionID(u).String()))
			row := []any{sum[:], userID(u), sessionID(u), time.Now().Add(30 * 24 * time.Hour)}
			u++
			return row, nil
		})); err != nil {
		return nil, fmt.Errorf("copy sessions: %w", err)
	}
	prices := make([]int64, d.Products)
	p := 0
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"products"}, []string{"id", "sku", "name", "price_cents", "currency"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if p == d.Products {
				return nil, nil
			}
			prices[p] = int64(100 + 37*p)
			row := []any{benchID(kindProduct, p), fmt.Sprintf("BENCH-%04d", p), fmt.Sprintf("Bench product %d", p), prices[p], "EUR"}
			p++
			return row, nil
		})); err != nil {
		return nil, fmt.Errorf("copy products: %w", err)
	}
	return prices, nil
}

func copyOrders(ctx context.Context, conn *pgx.Conn, d Dataset, prices []int64) error {
	orders := newOrderStream(d)
	addresses := make([]json.RawMessage, d.Users)
	for u := range addresses {
		addresses[u], _ = json.Marshal(map[string]string{
			"name": fmt.Sprintf("Bench User %d", u), "line1": fmt.Sprintf("%d Load Street", u+1), "line2": "",
			"city": "Benchville", "postal_code": fmt.Sprintf("%05d", u%100000), "country": "DE",
		})
	}
	statuses := []string{"pending", "paid", "shipped", "delivered", "cancelled"}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"orders"},
		[]string{"id", "owner_id", "status", "total_cents", "currency", "shipping_address", "note", "internal_note", "payment_reference", "created_at", "updated_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			o, ok := orders.next()
			if !ok {
				return nil, nil
			}
			var total int64
			for line := range d.ItemsPerOrder {
				total += prices[(o.n+line)%d.Products] * int64(1+line)
			}
			at := epoch().Add(time.Duration(o.seq) * time.Second)
			return []any{orderID(o.n), userID(o.owner), statuses[o.n%len(statuses)], total, "EUR", addresses[o.owner],
				"Please ring twice.", "staff only: bench", "pay_" + strconv.Itoa(o.n), at, at}, nil
		})); err != nil {
		return fmt.Errorf("copy orders: %w", err)
	}
	return nil
}

func copyItems(ctx context.Context, conn *pgx.Conn, d Dataset, prices []int64) error {
	names := make([]string, d.Products)
	for p := range names {
		names[p] = fmt.Sprintf("Bench product %d", p)
	}
	items := newOrderStream(d)
	var current order
	line := d.ItemsPerOrder
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"order_items"}, []string{"order_id", "line", "product_id", "name", "quantity", "unit_price_cents"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if line == d.ItemsPerOrder {
				o, ok := items.next()
				if !ok {
					return nil, nil
				}
				current, line = o, 0
			}
			prod := (current.n + line) % d.Products
			row := []any{orderID(current.n), line + 1, benchID(kindProduct, prod), names[prod], 1 + line, prices[prod]}
			line++
			return row, nil
		})); err != nil {
		return fmt.Errorf("copy order items: %w", err)
	}
	return nil
}

// rebuild holds the statements that restore what dropForBulkLoad dropped.
type rebuild struct {
	indexes     []string
	constraints []string
}

// dropForBulkLoad drops the tables' foreign keys and their indexes other
// than primary keys and unique ones, and returns how to recreate them,
// as the catalog defines them (pg_get_indexdef, pg_get_constraintdef).
func dropForBulkLoad(ctx context.Context, conn *pgx.Conn, tables ...string) (rebuild, error) {
	var r rebuild
	var drops []string
	rows, err := conn.Query(ctx, `
		SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname),
		       format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
		FROM pg_constraint
		WHERE contype = 'f' AND conrelid = ANY($1::regclass[])
		ORDER BY conname`, tables)
	if err != nil {
		return r, fmt.Errorf("read foreign keys: %w", err)
	}
	for rows.Next() {
		var drop, add string
		if err := rows.Scan(&drop, &add); err != nil {
			rows.Close()
			return r, err
		}
		drops, r.constraints = append(drops, drop), append(r.constraints, add)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return r, err
	}
	rows, err = conn.Query(ctx, `
		SELECT format('DROP INDEX %s', indexrelid::regclass), pg_get_indexdef(indexrelid)
		FROM pg_index
		WHERE indrelid = ANY($1::regclass[]) AND NOT indisprimary AND NOT indisunique
		ORDER BY indexrelid`, tables)
	if err != nil {
		return r, fmt.Errorf("read indexes: %w", err)
	}
	for rows.Next() {
		var drop, create string
		if err := rows.Scan(&drop, &create); err != nil {
			rows.Close()
			return r, err
		}
		drops, r.indexes = append(drops, drop), append(r.indexes, create)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return r, err
	}
	for _, stmt := range drops {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return r, fmt.Errorf("%s: %w", stmt, err)
		}
	}
	return r, nil
}

// order is one seeded order: its number, owner and insertion sequence.
type order struct{ n, owner, seq int }

// orderStream yields the orders in insertion order: round k holds the
// k-th order of every regular user and the matching share of every heavy
// user's orders.
type orderStream struct {
	d      Dataset
	round  int
	u      int // next user of this round
	h      int // heavy orders already emitted this round for user u
	seq    int
	rounds int
}

func newOrderStream(d Dataset) *orderStream {
	return &orderStream{d: d, rounds: d.RegularOrders}
}

func (s *orderStream) next() (order, bool) {
	d := s.d
	perRound := d.HeavyOrders / d.RegularOrders // heavy orders per round; HeavyOrders is a multiple
	for s.round < s.rounds {
		if s.u < d.Heavy {
			if s.h < perRound {
				k := s.round*perRound + s.h
				s.h++
				s.seq++
				return order{n: d.HeavyOrder(s.u, k), owner: s.u, seq: s.seq}, true
			}
			s.u, s.h = s.u+1, 0
			continue
		}
		if s.u < d.Users {
			o := order{n: s.u*d.RegularOrders + s.round, owner: s.u, seq: s.seq + 1}
			s.u++
			s.seq++
			return o, true
		}
		s.round, s.u = s.round+1, 0
	}
	return order{}, false
}
