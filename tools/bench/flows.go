package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync/atomic"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/bulwark-dev/bulwark/internal/coupons"
)

// benchCoupons is how many coupons the order rounds spread over. It is
// prime to the number of users, so request n uses coupon n mod C and user
// n mod U, a pair no earlier request used (one redemption per customer)
// until C×U orders.
const benchCoupons = 101

// hotProduct is measurement 9: POST /orders with a coupon, closed loop, all for
// one product (every order takes the same stock row's lock, held until its
// transaction commits) against orders spread over the whole catalogue, in
// alternating rounds. Coupons are spread in both, so the comparison is of
// the product row alone. The ratio is what a flash sale on one product
// keeps of the shop's order rate: the price of holding the stock rule in
// the row (docs/12-business-flows.md).
func (b *bench) hotProduct(ctx context.Context) error {
	codes, err := b.prepareOrders(ctx)
	if err != nil {
		return err
	}
	var n atomic.Int64
	place := func(hot bool) vegeta.Targeter {
		return targeter(func() (string, string, http.Header, []byte) {
			i := int(n.Add(1))
			u := i % b.d.Users
			product := 0
			if !hot {
				product = rand.IntN(b.d.Products) //nolint:gosec // picks load, not secrets.
			}
			body := fmt.Sprintf(`{"items":[{"product_id":%q,"quantity":1}],"shipping_address":{"name":"Bench","line1":"1 Load Street","city":"Benchville","postal_code":"12345","country":"DE"},"coupon_code":%q}`,
				benchID(kindProduct, product), codes[i%len(codes)])
			h := b.users[u].secure.Clone()
			h.Set("Content-Type", "application/json")
			return http.MethodPost, b.secure.base + "/api/v1/orders", h, []byte(body)
		})
	}
	hot, spread := place(true), place(false)
	b.warm(ctx, hot, spread)
	var hots, spreads []float64
	for i := range b.opt.rounds {
		for j := range 2 {
			isHot := (i+j)%2 == 0
			tr, name := spread, "spread"
			if isHot {
				tr, name = hot, "hot   "
			}
			r, err := b.steady(ctx, "orders "+name, func() round { return closedLoop(ctx, tr, b.opt.concurrency, b.opt.round) }, http.StatusCreated)
			if err != nil {
				return err
			}
			b.logf("round %d orders with a coupon, %s closed loop c=%d: %s", i+1, name, b.opt.concurrency, r)
			if isHot {
				hots = append(hots, r.Throughput)
			} else {
				spreads = append(spreads, r.Throughput)
			}
		}
	}
	if used := n.Load(); used >= int64(b.d.Users)*benchCoupons {
		return fmt.Errorf("%d orders reuse (coupon, customer) pairs: raise benchCoupons", used)
	}
	h, s := median(hots), median(spreads)
	b.add(row{id: "9", what: "POST /orders with a coupon, all on one product ÷ spread over the catalogue", value: h / s, atLeast: true, target: 0.5,
		detail: fmt.Sprintf("%.0f vs %.0f orders/s, closed loop, %d in flight; stock and coupon taken in each order's transaction (%d products, %d coupons)",
			h, s, b.opt.concurrency, b.d.Products, benchCoupons)})
	return nil
}

// prepareOrders gives every product stock enough for the rounds and
// creates the coupons, returning their codes.
func (b *bench) prepareOrders(ctx context.Context) ([]string, error) {
	conn, err := pgx.Connect(ctx, b.dbURL)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	if _, err := conn.Exec(ctx, `UPDATE products SET stock = 1000000000 WHERE stock < 1000000000`); err != nil {
		return nil, fmt.Errorf("stock: %w", err)
	}
	codes := make([]string, benchCoupons)
	for i := range codes {
		codes[i] = coupons.NewCode()
		canonical, _ := coupons.ParseCode(codes[i])
		if _, err := conn.Exec(ctx, `INSERT INTO coupons (id, code_hash, code_hint, percent_off, max_redemptions, expires_at) VALUES ($1, $2, $3, 10, 1000000, now() + interval '1 day')`,
			uuid.New(), coupons.Hash(canonical), canonical[len(canonical)-4:]); err != nil {
			return nil, fmt.Errorf("coupon: %w", err)
		}
	}
	return codes, nil
}
