package attack

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Sensitive business flows and races (OWASP API6:2023, CWE-362): each
// attack fires one burst of parallel requests, released together through a
// barrier, at a flow whose rule is "at most so many": units of stock,
// redemptions of a coupon, refunds of an order, orders per idempotency key.
// Then it reads the effects back over the API and counts them. A server
// that checks the rule in code before it writes lets the burst through the
// check together (docs/12-business-flows.md).
func businessFlowAttacks() []Attack {
	return []Attack{
		{
			ID: "business-flows/stock-burst", Issue: "business-flows", OWASP: "API6:2023", CWE: "CWE-362",
			Story: "Order the whole remaining stock of a limited product 30 times at once, so that more units are sold than exist.",
			Run:   stockBurst,
		},
		{
			ID: "business-flows/coupon-burst", Issue: "business-flows", OWASP: "API6:2023", CWE: "CWE-362",
			Story: "Redeem a coupon limited to 2 uses, one per customer, with 10 parallel orders each from alice and bob.",
			Run:   couponBurst,
		},
		{
			ID: "business-flows/refund-burst", Issue: "business-flows", OWASP: "API6:2023", CWE: "CWE-362",
			Story: "Refund one paid order with 30 parallel staff refund requests, to pay the money back many times.",
			Run:   refundBurst,
		},
		{
			ID: "business-flows/cancel-burst", Issue: "business-flows", OWASP: "API6:2023", CWE: "CWE-840",
			Story: "Cancel one paid order with 30 parallel requests, to be refunded and restocked more than once.",
			Run:   cancelBurst,
		},
		{
			ID: "business-flows/idempotency-burst", Issue: "business-flows", OWASP: "API6:2023", CWE: "CWE-799",
			Story: "Send one order 30 times at once with the same Idempotency-Key, as an over-eager retrying client does, and count the orders.",
			Run:   idempotencyBurst,
		},
	}
}

// burstSize is how many requests each attack releases together.
const burstSize = 30

// productLimited is the seeded product with little stock (internal/seed).
const productLimited = "9e000000-0000-4000-8000-000000000005"

// burst sends the n requests next(i) describes at the same instant: each
// goroutine builds its request and waits at a barrier, and closing it
// releases all of them together. Its requests are probes: a 429 is an
// answer, never waited out and retried.
func (t *Target) burst(ctx context.Context, n int, next func(i int) request) ([]*exchange, error) {
	out := make([]*exchange, n)
	errs := make([]error, n)
	ready := sync.WaitGroup{}
	done := sync.WaitGroup{}
	barrier := make(chan struct{})
	for i := range n {
		ready.Add(1)
		done.Go(func() {
			r := next(i)
			r.probe = true
			ready.Done()
			<-barrier
			out[i], errs[i] = t.send(ctx, r)
		})
	}
	ready.Wait()
	close(barrier)
	done.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// answers summarises a burst's answers, such as map[201:1 409:29].
func answers(xs []*exchange) map[int]int {
	counts := map[int]int{}
	for _, x := range xs {
		counts[x.status]++
	}
	return counts
}

// marker is a note unique to one run of an attack, to find its orders.
func marker(what string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s %x", what, b)
}

func orderBody(note, coupon string, lines ...map[string]any) string {
	body := map[string]any{"items": lines, "shipping_address": validAddress(), "note": note}
	if coupon != "" {
		body["coupon_code"] = coupon
	}
	b, _ := json.Marshal(body)
	return string(b)
}

func line(product string, quantity int) map[string]any {
	return map[string]any{"product_id": product, "quantity": quantity}
}

// stockOf reads a product's stock from the catalogue, as any customer can.
func (t *Target) stockOf(ctx context.Context, token, product string) (int, error) {
	x, err := t.send(ctx, request{method: http.MethodGet, path: "/api/v1/products", token: token})
	if err != nil {
		return 0, err
	}
	var list struct {
		Items []struct {
			ID    string `json:"id"`
			Stock int    `json:"stock"`
		} `json:"items"`
	}
	if x.status != http.StatusOK || json.Unmarshal(x.body, &list) != nil {
		return 0, fmt.Errorf("read the catalogue: %s", x)
	}
	for _, p := range list.Items {
		if p.ID == product {
			return p.Stock, nil
		}
	}
	return 0, fmt.Errorf("product %s is not in the catalogue: %s", product, x)
}

// createdIDs are the ids of the orders a burst's 2xx answers name, each
// once (a replayed answer names the first order again).
func createdIDs(xs []*exchange) []string {
	seen := map[string]bool{}
	var ids []string
	for _, x := range xs {
		if x.status/100 != 2 {
			continue
		}
		var o order
		if json.Unmarshal(x.body, &o) == nil && o.ID != "" && !seen[o.ID] {
			seen[o.ID] = true
			ids = append(ids, o.ID)
		}
	}
	return ids
}

// cancelAll cancels orders one by one, to give their stock back after an
// attack (best effort: a cancel refused is left for the workshop reset).
func (t *Target) cancelAll(ctx context.Context, token string, ids []string) {
	for _, id := range ids {
		_, _ = t.send(ctx, request{method: http.MethodPost, path: "/api/v1/orders/" + id + "/cancel", token: token})
	}
}

func stockBurst(ctx context.Context, t *Target) (Result, error) {
	alice, err := t.login(ctx, t.Alice)
	if err != nil {
		return Result{}, err
	}
	before, err := t.stockOf(ctx, alice.AccessToken, productLimited)
	if err != nil {
		return Result{}, err
	}
	if before == 0 || before > 1000 {
		return Result{}, fmt.Errorf("inconclusive: the limited product has %d units in stock; reset the demo data (POST /workshop/reset) or reseed", before)
	}
	note := marker("stock burst")
	xs, err := t.burst(ctx, burstSize, func(int) request {
		return request{method: http.MethodPost, path: "/api/v1/orders", token: alice.AccessToken, body: orderBody(note, "", line(productLimited, before))}
	})
	if err != nil {
		return Result{}, err
	}
	// Read back each order the answers name: it exists, and it holds the
	// units it says.
	ids := createdIDs(xs)
	sold := 0
	for _, id := range ids {
		o, _, err := t.getOrder(ctx, alice.AccessToken, id)
		if err != nil {
			return Result{}, err
		}
		for _, it := range o.Items {
			if it.ProductID == productLimited {
				sold += it.Quantity
			}
		}
	}
	after, err := t.stockOf(ctx, alice.AccessToken, productLimited)
	if err != nil {
		return Result{}, err
	}
	defer t.cancelAll(context.WithoutCancel(ctx), alice.AccessToken, ids)
	counts := answers(xs)
	if sold == 0 {
		return Result{}, fmt.Errorf("inconclusive: no order of the burst went through (%v)", counts)
	}
	if sold > before || after < 0 {
		return exploited("%d units sold of %d in stock: %d of %d parallel orders for all %d units went through (answers %v); stock now %d",
			sold, before, len(ids), burstSize, before, counts, after)
	}
	return blocked("%d of %d in stock sold: %d of %d parallel orders for all %d units went through (answers %v); stock now %d",
		sold, before, len(ids), burstSize, before, counts, after)
}

func couponBurst(ctx context.Context, t *Target) (Result, error) {
	const limit = 2
	staff, err := t.StaffToken(ctx)
	if err != nil {
		return Result{}, err
	}
	body, _ := json.Marshal(map[string]any{"percent_off": 50, "max_redemptions": limit, "expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	x, err := t.send(ctx, request{method: http.MethodPost, path: "/api/v1/admin/coupons", token: staff, body: string(body)})
	if err != nil {
		return Result{}, err
	}
	var coupon struct {
		ID   string `json:"id"`
		Code string `json:"code"`
	}
	if x.status != http.StatusCreated || json.Unmarshal(x.body, &coupon) != nil || coupon.Code == "" {
		return Result{}, fmt.Errorf("control: staff could not create a coupon: %s", x)
	}
	alice, err := t.login(ctx, t.Alice)
	if err != nil {
		return Result{}, err
	}
	bob, err := t.login(ctx, t.Bob)
	if err != nil {
		return Result{}, err
	}
	// 10 each: within the per-account coupon limit, so every request is
	// a real redemption attempt, not a 429.
	const perCustomer = 10
	note := marker("coupon burst")
	tokenOf := func(i int) string {
		if i%2 == 0 {
			return alice.AccessToken
		}
		return bob.AccessToken
	}
	xs, err := t.burst(ctx, 2*perCustomer, func(i int) request {
		return request{method: http.MethodPost, path: "/api/v1/orders", token: tokenOf(i), body: orderBody(note, coupon.Code, line(productKeyboard, 1))}
	})
	if err != nil {
		return Result{}, err
	}
	// Read back: an order is discounted when its total is below the sum of
	// its lines.
	redeemed := map[string]int{}
	for i, x := range xs {
		if x.status != http.StatusCreated {
			continue
		}
		var placed order
		if err := json.Unmarshal(x.body, &placed); err != nil {
			return Result{}, fmt.Errorf("decode order: %w", err)
		}
		who := map[bool]string{true: "alice", false: "bob"}[i%2 == 0]
		o, _, err := t.getOrder(ctx, tokenOf(i), placed.ID)
		if err != nil {
			return Result{}, err
		}
		var sum int64
		for _, it := range o.Items {
			sum += int64(it.Quantity) * it.UnitPriceCents
		}
		if o.TotalCents < sum {
			redeemed[who]++
		}
	}
	counts := answers(xs)
	total := redeemed["alice"] + redeemed["bob"]
	if total == 0 {
		return Result{}, fmt.Errorf("inconclusive: no redemption went through (%v); the coupon limits may be spent, reset first", counts)
	}
	if total > limit || redeemed["alice"] > 1 || redeemed["bob"] > 1 {
		return exploited("a coupon limited to %d uses, one per customer, was redeemed %d times (alice %d, bob %d) by %d parallel orders (answers %v)",
			limit, total, redeemed["alice"], redeemed["bob"], len(xs), counts)
	}
	return blocked("a coupon limited to %d uses, one per customer: %d redemptions (alice %d, bob %d) of %d parallel orders (answers %v)",
		limit, total, redeemed["alice"], redeemed["bob"], len(xs), counts)
}

// paidOrder has alice place an order and staff mark it paid.
func (t *Target) paidOrder(ctx context.Context, staff, product string) (order, tokens, error) {
	alice, err := t.login(ctx, t.Alice)
	if err != nil {
		return order{}, tokens{}, err
	}
	x, err := t.send(ctx, request{method: http.MethodPost, path: "/api/v1/orders", token: alice.AccessToken, body: orderBody(marker("paid order"), "", line(product, 1))})
	if err != nil {
		return order{}, tokens{}, err
	}
	var o order
	if x.status != http.StatusCreated || json.Unmarshal(x.body, &o) != nil {
		return order{}, tokens{}, fmt.Errorf("control: alice could not place an order: %s", x)
	}
	x, err = t.send(ctx, request{method: http.MethodPatch, path: "/api/v1/admin/orders/" + o.ID, token: staff, body: `{"status":"paid"}`})
	if err != nil {
		return order{}, tokens{}, err
	}
	if x.status != http.StatusOK {
		return order{}, tokens{}, fmt.Errorf("control: staff could not mark the order paid: %s", x)
	}
	return o, alice, nil
}

// refundsOf reads an order's refunds back through the staff API.
func (t *Target) refundsOf(ctx context.Context, staff, id string) (int, error) {
	x, err := t.send(ctx, request{method: http.MethodGet, path: "/api/v1/admin/orders/" + id + "/refunds", token: staff})
	if err != nil {
		return 0, err
	}
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	if x.status != http.StatusOK || json.Unmarshal(x.body, &list) != nil {
		return 0, fmt.Errorf("read refunds back: %s", x)
	}
	return len(list.Items), nil
}

func refundBurst(ctx context.Context, t *Target) (Result, error) {
	staff, err := t.StaffToken(ctx)
	if err != nil {
		return Result{}, err
	}
	o, _, err := t.paidOrder(ctx, staff, productKeyboard)
	if err != nil {
		return Result{}, err
	}
	xs, err := t.burst(ctx, burstSize, func(int) request {
		return request{method: http.MethodPost, path: "/api/v1/admin/orders/" + o.ID + "/refund", token: staff}
	})
	if err != nil {
		return Result{}, err
	}
	n, err := t.refundsOf(ctx, staff, o.ID)
	if err != nil {
		return Result{}, err
	}
	counts := answers(xs)
	if counts[http.StatusCreated] == 0 {
		return Result{}, fmt.Errorf("inconclusive: no refund went through (%v)", counts)
	}
	if n > 1 || counts[http.StatusCreated] > 1 {
		return exploited("order %s refunded %d times by %d parallel requests (answers %v)", o.ID, n, burstSize, counts)
	}
	return blocked("order %s refunded once by %d parallel requests (answers %v); %d refund on record", o.ID, burstSize, counts, n)
}

func cancelBurst(ctx context.Context, t *Target) (Result, error) {
	staff, err := t.StaffToken(ctx)
	if err != nil {
		return Result{}, err
	}
	o, alice, err := t.paidOrder(ctx, staff, productLimited)
	if err != nil {
		return Result{}, err
	}
	before, err := t.stockOf(ctx, alice.AccessToken, productLimited)
	if err != nil {
		return Result{}, err
	}
	xs, err := t.burst(ctx, burstSize, func(int) request {
		return request{method: http.MethodPost, path: "/api/v1/orders/" + o.ID + "/cancel", token: alice.AccessToken}
	})
	if err != nil {
		return Result{}, err
	}
	n, err := t.refundsOf(ctx, staff, o.ID)
	if err != nil {
		return Result{}, err
	}
	after, err := t.stockOf(ctx, alice.AccessToken, productLimited)
	if err != nil {
		return Result{}, err
	}
	counts := answers(xs)
	if counts[http.StatusOK] == 0 {
		return Result{}, fmt.Errorf("inconclusive: no cancel went through (%v)", counts)
	}
	if n > 1 || after-before > 1 {
		return exploited("one paid order of 1 unit, cancelled by %d parallel requests (answers %v): refunded %d times, %d units back in stock",
			burstSize, counts, n, after-before)
	}
	return blocked("one paid order of 1 unit, cancelled by %d parallel requests (answers %v): refunded %d time, %d unit back in stock",
		burstSize, counts, n, after-before)
}

func idempotencyBurst(ctx context.Context, t *Target) (Result, error) {
	alice, err := t.login(ctx, t.Alice)
	if err != nil {
		return Result{}, err
	}
	note := marker("idempotency burst")
	key := marker("key")[4:]
	body := orderBody(note, "", line(productCable, 1))
	xs, err := t.burst(ctx, burstSize, func(int) request {
		return request{method: http.MethodPost, path: "/api/v1/orders", token: alice.AccessToken, body: body, headers: map[string]string{"Idempotency-Key": key}}
	})
	if err != nil {
		return Result{}, err
	}
	// Read back: alice's newest orders carrying this run's note.
	x, err := t.send(ctx, request{method: http.MethodGet, path: "/api/v1/orders?sort=-created_at&limit=100", token: alice.AccessToken})
	if err != nil {
		return Result{}, err
	}
	var page struct {
		Items []order `json:"items"`
	}
	if x.status != http.StatusOK || json.Unmarshal(x.body, &page) != nil {
		return Result{}, fmt.Errorf("read orders back: %s", x)
	}
	placed := 0
	for _, o := range page.Items {
		if o.Note == note {
			placed++
		}
	}
	counts := answers(xs)
	if placed == 0 {
		return Result{}, fmt.Errorf("inconclusive: no order was placed (%v)", counts)
	}
	if placed > 1 {
		return exploited("%d orders placed by %d parallel requests with one Idempotency-Key (answers %v)", placed, burstSize, counts)
	}
	return blocked("1 order placed by %d parallel requests with one Idempotency-Key (answers %v; the 2xx name %d order)",
		burstSize, counts, len(createdIDs(xs)))
}
