package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bulwark-dev/bulwark/internal/auth"
	"github.com/bulwark-dev/bulwark/internal/config"
	"github.com/bulwark-dev/bulwark/internal/coupons"
)

// The races of docs/12-business-flows.md, run many times against the real
// server and database: each round releases raceBurst requests together
// through a barrier, then reads the database and requires the invariant
// held. The catalogue's attacks (business_flows_test.go) fire one burst
// each; these fire raceRounds, because a race that is lost one time in
// five still loses.
const (
	raceRounds = 20
	raceBurst  = 30
)

const (
	keyboard = "9e000000-0000-4000-8000-000000000001"
	limited  = "9e000000-0000-4000-8000-000000000005"
)

// raceRig is a server trusted to read client addresses from
// X-Forwarded-For (as behind a proxy), so that each simulated customer has
// an address of its own and the per-address limits count per customer, as
// they would in production; a database handle to set up rounds and check
// invariants; and the token key, to mint customers' tokens.
type raceRig struct {
	t      *testing.T
	srv    *server
	db     *pgxpool.Pool
	tokens *auth.Tokens
	client *http.Client
	next   int // customers made so far
}

type customer struct {
	id    uuid.UUID
	token string
	addr  string
}

func newRaceRig(t *testing.T) *raceRig {
	t.Helper()
	srv := startServer(t, map[string]string{"TRUSTED_PROXIES": "127.0.0.1/32"})
	pool, err := pgxpool.New(t.Context(), srv.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	tokens, err := auth.NewTokens([]config.SigningKey{{ID: srv.Target.SigningKeyID, Secret: srv.Target.SigningKey}}, "bulwark", "bulwark-api", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	transport := &http.Transport{MaxIdleConnsPerHost: 2 * raceBurst}
	t.Cleanup(transport.CloseIdleConnections)
	return &raceRig{t: t, srv: srv, db: pool, tokens: tokens, client: &http.Client{Transport: transport, Timeout: 30 * time.Second}}
}

// customers inserts n new customer accounts and mints their tokens: no
// sign-in (and no argon2id hash) per simulated customer.
func (r *raceRig) customers(n int) []customer {
	r.t.Helper()
	out := make([]customer, n)
	for i := range out {
		r.next++
		id := uuid.New()
		if _, err := r.db.Exec(r.t.Context(), `INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, 'Racer', 'x')`,
			id, fmt.Sprintf("racer-%d-%s@example.net", r.next, id.String()[:8])); err != nil {
			r.t.Fatal(err)
		}
		tok := r.mint(id, auth.RoleCustomer, time.Time{})
		out[i] = customer{id: id, token: tok, addr: fmt.Sprintf("198.18.%d.%d", r.next/250, r.next%250+1)}
	}
	return out
}

// staff makes a new admin account and returns a token with a second
// factor checked now, as a step-up would give it. A new one per round
// keeps each within the per-user limit (120 requests per 20 s).
func (r *raceRig) staff() customer {
	r.t.Helper()
	s := r.customers(1)[0]
	// The change of role bumps the token version (a trigger), so the
	// token is minted after it.
	r.exec(`UPDATE users SET role = 'admin' WHERE id = $1`, s.id)
	s.token = r.mint(s.id, auth.RoleAdmin, time.Now())
	return s
}

// mint opens a session for user id, as a sign-in would (a refresh family
// whose refresh token is the family's own text), and signs an access
// token of it at the user's current token version, with a second factor
// checked at mfaAt (zero: none). Authenticate refuses a token whose
// session is not live or whose version is not the user's
// (internal/auth/sessions.go).
func (r *raceRig) mint(id uuid.UUID, role string, mfaAt time.Time) string {
	r.t.Helper()
	family := uuid.New()
	r.exec(`INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at) VALUES (sha256($1::bytea), $2, $3, now() + interval '1 day')`,
		[]byte(family.String()), id, family)
	version := int32(r.scalar(`SELECT token_version FROM users WHERE id = $1`, id)) //nolint:gosec // a small counter.
	tok, err := r.tokens.Issue(auth.Grant{UserID: id, Role: role, Session: family, Version: version, MFAAt: mfaAt})
	if err != nil {
		r.t.Fatal(err)
	}
	return tok
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

type raceCall struct {
	who    customer
	method string
	path   string
	body   any
	header map[string]string
}

// burst sends every call at the same instant: each goroutine builds its
// request and waits at a barrier that releases them together.
func (r *raceRig) burst(calls []raceCall) []answer {
	r.t.Helper()
	out := make([]answer, len(calls))
	errs := make([]error, len(calls))
	var ready, done sync.WaitGroup
	barrier := make(chan struct{})
	for i, c := range calls {
		ready.Add(1)
		done.Go(func() {
			var body io.Reader
			if c.body != nil {
				b, _ := json.Marshal(c.body)
				body = bytes.NewReader(b)
			}
			req, err := http.NewRequestWithContext(context.Background(), c.method, r.srv.URL+c.path, body)
			if err != nil {
				errs[i] = err
				ready.Done()
				return
			}
			req.Header.Set("Authorization", "Bearer "+c.who.token)
			req.Header.Set("X-Forwarded-For", c.who.addr)
			if c.body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			ready.Done()
			<-barrier
			resp, err := r.client.Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			b, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			out[i], errs[i] = answer{status: resp.StatusCode, header: resp.Header, body: b}, err
		})
	}
	ready.Wait()
	close(barrier)
	done.Wait()
	for _, err := range errs {
		if err != nil {
			r.t.Fatal(err)
		}
	}
	return out
}

func (r *raceRig) one(c raceCall) answer {
	r.t.Helper()
	return r.burst([]raceCall{c})[0]
}

// scalar runs a query that returns one number.
func (r *raceRig) scalar(sql string, args ...any) int64 {
	r.t.Helper()
	var n int64
	if err := r.db.QueryRow(r.t.Context(), sql, args...).Scan(&n); err != nil {
		r.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func (r *raceRig) exec(sql string, args ...any) {
	r.t.Helper()
	if _, err := r.db.Exec(r.t.Context(), sql, args...); err != nil {
		r.t.Fatalf("%s: %v", sql, err)
	}
}

func countStatuses(as []answer) map[int]int {
	m := map[int]int{}
	for _, a := range as {
		m[a.status]++
	}
	return m
}

func raceOrder(product string, quantity int, note, coupon string) map[string]any {
	o := map[string]any{
		"items":            []map[string]any{{"product_id": product, "quantity": quantity}},
		"shipping_address": map[string]any{"name": "Racer", "line1": "1 Track Road", "city": "Monza", "postal_code": "20900", "country": "IT"},
		"note":             note,
	}
	if coupon != "" {
		o["coupon_code"] = coupon
	}
	return o
}

func orderID(t *testing.T, a answer) string {
	t.Helper()
	var o struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(a.body, &o); err != nil || o.ID == "" {
		t.Fatalf("no order in %d %s", a.status, a.body)
	}
	return o.ID
}

// Stock never goes below zero and no unit is sold twice: each round, 30
// customers order one unit each of a product with 10 left; then the 10
// orders are each cancelled by 3 requests at once, and exactly the 10
// units come back. Mechanisms: ReserveStock's WHERE stock >= quantity
// (with the CHECK products_stock_not_negative behind it), and the release
// tied to CancelOrderForOwner's conditional status change.
func TestRaceStockIsNeverOversoldNorReleasedTwice(t *testing.T) {
	r := newRaceRig(t)
	const stock = 10
	buyers := r.customers(raceBurst)
	for round := range raceRounds {
		r.exec(`UPDATE products SET stock = $1 WHERE id = $2`, stock, limited)
		note := fmt.Sprintf("stock race %d", round)
		calls := make([]raceCall, raceBurst)
		for i := range calls {
			calls[i] = raceCall{who: buyers[i], method: http.MethodPost, path: "/api/v1/orders", body: raceOrder(limited, 1, note, "")}
		}
		answers := r.burst(calls)
		sold := r.scalar(`SELECT coalesce(sum(oi.quantity), 0) FROM order_items oi JOIN orders o ON o.id = oi.order_id
			WHERE o.note = $1 AND oi.product_id = $2`, note, limited)
		left := r.scalar(`SELECT stock FROM products WHERE id = $1`, limited)
		counts := countStatuses(answers)
		if sold > stock || left < 0 || sold+left != stock || int64(counts[201]) != sold || counts[201]+counts[409] != raceBurst {
			t.Fatalf("round %d: %d sold of %d, %d left, answers %v", round, sold, stock, left, counts)
		}
		// Cancel each order three times at once.
		var cancels []raceCall
		for i, a := range answers {
			if a.status == http.StatusCreated {
				id := orderID(t, a)
				for range 3 {
					cancels = append(cancels, raceCall{who: buyers[i], method: http.MethodPost, path: "/api/v1/orders/" + id + "/cancel"})
				}
			}
		}
		cancelled := countStatuses(r.burst(cancels))
		left = r.scalar(`SELECT stock FROM products WHERE id = $1`, limited)
		if left != stock || int64(cancelled[200]) != sold {
			t.Fatalf("round %d: after cancelling %d orders three times each (answers %v), %d units in stock, want %d", round, sold, cancelled, left, stock)
		}
	}
	t.Logf("%d rounds × %d parallel orders for %d units, then %d parallel cancels: never oversold, never released twice", raceRounds, raceBurst, stock, 3*stock)
}

// A coupon is redeemed at most its limit, and at most once per customer:
// each round, a new coupon for 3 uses and 10 new customers sending 3
// orders each with it, all 30 at once. Mechanisms: RedeemCoupon's WHERE
// redeemed < max_redemptions (with the CHECK coupons_redeemed_within_limit
// behind it) and the primary key coupon_redemptions_one_per_customer.
func TestRaceCouponRedemptionsStayWithinLimits(t *testing.T) {
	r := newRaceRig(t)
	const limit = 3
	for round := range raceRounds {
		code := coupons.NewCode()
		canonical, _ := coupons.ParseCode(code)
		couponID := uuid.New()
		r.exec(`INSERT INTO coupons (id, code_hash, code_hint, percent_off, max_redemptions, expires_at) VALUES ($1, $2, $3, 25, $4, now() + interval '1 hour')`,
			couponID, coupons.Hash(canonical), canonical[len(canonical)-4:], limit)
		buyers := r.customers(raceBurst / 3)
		note := fmt.Sprintf("coupon race %d", round)
		calls := make([]raceCall, raceBurst)
		for i := range calls {
			calls[i] = raceCall{who: buyers[i%len(buyers)], method: http.MethodPost, path: "/api/v1/orders", body: raceOrder(keyboard, 1, note, code)}
		}
		counts := countStatuses(r.burst(calls))
		redemptions := r.scalar(`SELECT count(*) FROM coupon_redemptions WHERE coupon_id = $1`, couponID)
		perCustomer := r.scalar(`SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM coupon_redemptions WHERE coupon_id = $1 GROUP BY user_id) c`, couponID)
		counter := r.scalar(`SELECT redeemed FROM coupons WHERE id = $1`, couponID)
		// Every discounted order of the round is a recorded redemption.
		discounted := r.scalar(`SELECT count(*) FROM orders o WHERE o.note = $1
			AND o.total_cents < (SELECT sum(quantity * unit_price_cents) FROM order_items WHERE order_id = o.id)`, note)
		if redemptions > limit || perCustomer > 1 || counter != redemptions || discounted != redemptions || int64(counts[201]) != redemptions {
			t.Fatalf("round %d: a coupon for %d uses: %d redemptions (at most %d per customer, counter %d), %d discounted orders, answers %v",
				round, limit, redemptions, perCustomer, counter, discounted, counts)
		}
		if redemptions != limit {
			t.Fatalf("round %d: only %d of %d redemptions went through (answers %v): the test did not race for the limit", round, redemptions, limit, counts)
		}
	}
	t.Logf("%d rounds × %d parallel orders (10 customers × 3) for a coupon of %d uses: never over the limit, never twice per customer", raceRounds, raceBurst, limit)
}

// An order is refunded once, whoever asks and however often: each round, a
// paid order gets 15 staff refunds and 15 customer cancels at once.
// Mechanisms: the UNIQUE constraint refunds_once_per_order, and the cancel's
// conditional status change (the unit goes back to stock once).
func TestRaceRefundsAtMostOncePerOrder(t *testing.T) {
	r := newRaceRig(t)
	for round := range raceRounds {
		staff, buyer := r.staff(), r.customers(1)[0]
		before := r.scalar(`SELECT stock FROM products WHERE id = $1`, keyboard)
		a := r.one(raceCall{who: buyer, method: http.MethodPost, path: "/api/v1/orders", body: raceOrder(keyboard, 1, fmt.Sprintf("refund race %d", round), "")})
		if a.status != http.StatusCreated {
			t.Fatalf("round %d: order: %d %s", round, a.status, a.body)
		}
		id := orderID(t, a)
		r.exec(`UPDATE orders SET status = 'paid' WHERE id = $1`, id)
		calls := make([]raceCall, raceBurst)
		for i := range calls {
			if i%2 == 0 {
				calls[i] = raceCall{who: staff, method: http.MethodPost, path: "/api/v1/admin/orders/" + id + "/refund"}
			} else {
				calls[i] = raceCall{who: buyer, method: http.MethodPost, path: "/api/v1/orders/" + id + "/cancel"}
			}
		}
		counts := countStatuses(r.burst(calls))
		refunds := r.scalar(`SELECT count(*) FROM refunds WHERE order_id = $1`, id)
		after := r.scalar(`SELECT stock FROM products WHERE id = $1`, keyboard)
		if refunds != 1 || after != before || counts[500] > 0 {
			t.Fatalf("round %d: %d refunds of one order, stock %d → %d, answers %v", round, refunds, before, after, counts)
		}
	}
	t.Logf("%d rounds × %d parallel refunds and cancels of one paid order: one refund each time, one unit back", raceRounds, raceBurst)
}

// One Idempotency-Key places one order, however many copies of the request
// arrive at once: each round, 30 identical requests with one key. Every
// success names the same order; the rest are 409 (still in flight). Then a
// late retry is answered from the key, and the key with another body is
// refused. Mechanisms: the advisory lock on (caller, key) for the fast
// 409, and the primary key idempotency_keys_once_per_caller inserted in the
// order's own transaction.
func TestRaceOneOrderPerIdempotencyKey(t *testing.T) {
	r := newRaceRig(t)
	for round := range raceRounds {
		buyer := r.customers(1)[0]
		note := fmt.Sprintf("idempotency race %d", round)
		body := raceOrder(keyboard, 1, note, "")
		key := uuid.NewString()
		calls := make([]raceCall, raceBurst)
		for i := range calls {
			calls[i] = raceCall{who: buyer, method: http.MethodPost, path: "/api/v1/orders", body: body, header: map[string]string{"Idempotency-Key": key}}
		}
		answers := r.burst(calls)
		counts := countStatuses(answers)
		placed := r.scalar(`SELECT count(*) FROM orders WHERE note = $1`, note)
		ids := map[string]bool{}
		for _, a := range answers {
			if a.status == http.StatusCreated {
				ids[orderID(t, a)] = true
			}
		}
		if placed != 1 || len(ids) != 1 || counts[201]+counts[409] != raceBurst {
			t.Fatalf("round %d: %d orders for one key, %d distinct ids answered, answers %v", round, placed, len(ids), counts)
		}
		late := r.one(calls[0])
		if late.status != http.StatusCreated || !ids[orderID(t, late)] || late.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("round %d: a late retry: %d %s (replayed %q)", round, late.status, late.body, late.header.Get("Idempotent-Replayed"))
		}
		other := calls[0]
		other.body = raceOrder(keyboard, 2, note, "")
		if a := r.one(other); a.status != http.StatusUnprocessableEntity {
			t.Fatalf("round %d: the key with another body: %d %s, want 422", round, a.status, a.body)
		}
		if n := r.scalar(`SELECT count(*) FROM orders WHERE note = $1`, note); n != 1 {
			t.Fatalf("round %d: %d orders after the retries", round, n)
		}
	}
	t.Logf("%d rounds × %d parallel copies of one request with one Idempotency-Key: one order each time", raceRounds, raceBurst)
}
