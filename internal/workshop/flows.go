//go:build workshop

package workshop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/auth"
	"github.com/bulwark-dev/bulwark/internal/coupons"
	"github.com/bulwark-dev/bulwark/internal/orders"
	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/web"
)

// Sensitive business flows and races (business-flows): the stock of a
// product, the redemptions of a coupon, the refund of an order and the
// orders of an idempotency key, each "at most so many".
//
// Vulnerable: check, then act. The code reads the row, checks the rule in
// Go (enough stock? coupon under its limit and not used by this customer?
// order not yet refunded? key not seen?) and then writes, with no
// transaction. A burst of parallel requests all read the same row before
// any of them writes, all pass the check, and all act: more units sold
// than exist, a coupon for 2 redeemed 20 times, an order refunded 30
// times, one key placing 30 orders.
//
// Naive: the same check and write inside one transaction, at PostgreSQL's
// default isolation, READ COMMITTED. A transaction does not lock what it
// reads: each of the burst's transactions reads the row before the first
// one commits, so the burst passes the check together exactly as before.
// (SERIALIZABLE, or SELECT ... FOR UPDATE, would turn the race into
// errors and waits; the secure code needs neither.)
//
// Why the variants do not trip over the secure schema's constraints: the
// schema is what the secure code relies on, so the variants write the way
// the team that shipped them did, through paths no constraint watches.
// Stock and the coupon counter are written as absolute values computed in
// Go (SET stock = $read - $n): a lost update, which no CHECK can see,
// since every value written is in range. Redemptions of a customer,
// refunds and idempotency keys go to the workshop's own tables
// (workshop_coupon_uses, workshop_refunds, workshop_idempotency_keys,
// PrepareFlows), which are the secure tables without their UNIQUE and
// PRIMARY KEY constraints: what the team's schema looked like.
//
// Between check and write, each variant waits checkWindow, standing in for
// the work a real service does there (a fraud check, a call to the
// payment provider). Without it the window is a few milliseconds, and a
// burst on a two-core laptop wins only some of the time; with it, every
// time, which is what a room needs to see. The secure code has the same
// work to do and is still right: its rule is in the write itself.
// Secure code: internal/orders/stock.go, internal/coupons/redeem.go,
// internal/orders/cancel.go, internal/admin/refund.go,
// internal/idempotency, db/queries/business_flows.sql
// (docs/12-business-flows.md).
const checkWindow = 50 * time.Millisecond

// PrepareFlows creates the workshop's own tables for the variants: the
// secure tables without their constraints.
func PrepareFlows(ctx context.Context, pool *pgxpool.Pool) error {
	_, err := pool.Exec(ctx, `
		CREATE TABLE IF NOT EXISTS workshop_coupon_uses (coupon_id uuid NOT NULL, user_id uuid NOT NULL, order_id uuid NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
		CREATE TABLE IF NOT EXISTS workshop_refunds (id uuid NOT NULL, order_id uuid NOT NULL, amount_cents bigint NOT NULL, currency char(3) NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
		CREATE TABLE IF NOT EXISTS workshop_idempotency_keys (user_id uuid NOT NULL, key text NOT NULL, status integer NOT NULL, body bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now());`)
	if err != nil {
		return fmt.Errorf("workshop tables: %w", err)
	}
	return nil
}

// querier is a pool or a transaction: vulnerable runs on the pool, naive
// in a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// within runs fn on the pool (vulnerable) or in one READ COMMITTED
// transaction (naive), which joins the transaction of the naive
// idempotency variant when there is one (postgres.WithTx): a request must
// not hold one connection while it waits for a second, or a burst takes
// the whole pool and waits for ever.
func within(ctx context.Context, pool *pgxpool.Pool, inTx bool, fn func(querier) error) error {
	if !inTx {
		return fn(pool)
	}
	return postgres.WithTx(ctx, pool, func(tx pgx.Tx) error { return fn(tx) })
}

func pause(ctx context.Context) {
	select {
	case <-time.After(checkWindow):
	case <-ctx.Done():
	}
}

type variantOrderRequest struct {
	Items []struct {
		ProductID string `json:"product_id"`
		Quantity  int    `json:"quantity"`
	} `json:"items"`
	ShippingAddress json.RawMessage `json:"shipping_address"`
	Note            string          `json:"note"`
	CouponCode      string          `json:"coupon_code"`
}

type variantItem struct {
	ProductID      string `json:"product_id"`
	Name           string `json:"name"`
	Quantity       int    `json:"quantity"`
	UnitPriceCents int64  `json:"unit_price_cents"`
	stock          int
}

// createOrderVariant is POST /orders, check then act: stock and coupon
// checked in Go, then the order written, then stock and counter set to
// the values computed from what was read.
func createOrderVariant(pool *pgxpool.Pool, inTx bool) echo.HandlerFunc {
	return func(c *echo.Context) error {
		var req variantOrderRequest
		if err := json.NewDecoder(c.Request().Body).Decode(&req); err != nil || len(req.Items) == 0 {
			return web.Invalid("The body is not a valid order.")
		}
		ctx, owner := c.Request().Context(), auth.UserID(c)
		var out map[string]any
		err := within(ctx, pool, inTx, func(q querier) error {
			var (
				items    []variantItem
				subtotal int64
				currency string
			)
			for _, it := range req.Items {
				v := variantItem{ProductID: it.ProductID, Quantity: it.Quantity}
				if err := q.QueryRow(ctx, `SELECT name, price_cents, currency, stock FROM products WHERE id = $1`, it.ProductID).
					Scan(&v.Name, &v.UnitPriceCents, &currency, &v.stock); err != nil {
					return web.Invalid("An item names no product.")
				}
				// The check: enough stock, as read a moment ago.
				if v.stock < it.Quantity {
					return web.Conflict("Not enough stock.")
				}
				subtotal += v.UnitPriceCents * int64(it.Quantity)
				items = append(items, v)
			}
			var (
				coupon   uuid.UUID
				redeemed int
				discount int64
			)
			if req.CouponCode != "" {
				canonical, ok := coupons.ParseCode(req.CouponCode)
				if !ok {
					return web.Invalid("The coupon code is malformed.")
				}
				var (
					terms   coupons.Terms
					limit   int
					expired bool
					used    bool
				)
				err := q.QueryRow(ctx, `SELECT id, percent_off, amount_off_cents, currency, redeemed, max_redemptions, expires_at <= now() FROM coupons WHERE code_hash = $1`,
					coupons.Hash(canonical)).Scan(&coupon, &terms.PercentOff, &terms.AmountOffCents, &terms.Currency, &redeemed, &limit, &expired)
				if err != nil {
					return coupons.ErrUnknown
				}
				// The checks: not expired, under the limit, not used by
				// this customer yet, as read a moment ago.
				if expired {
					return coupons.ErrExpired
				}
				if redeemed >= limit {
					return coupons.ErrSpent
				}
				if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM workshop_coupon_uses WHERE coupon_id = $1 AND user_id = $2)`, coupon, owner).Scan(&used); err != nil {
					return err
				}
				if used {
					return coupons.ErrAlreadyUsed
				}
				if discount, err = terms.Discount(subtotal, currency); err != nil {
					return err
				}
			}
			pause(ctx)
			// The act.
			id := uuid.New()
			var created time.Time
			if err := q.QueryRow(ctx, `INSERT INTO orders (id, owner_id, total_cents, currency, shipping_address, note) VALUES ($1, $2, $3, $4, $5, $6) RETURNING created_at`,
				id, owner, subtotal-discount, currency, []byte(req.ShippingAddress), req.Note).Scan(&created); err != nil {
				return fmt.Errorf("insert order: %w", err)
			}
			for i, it := range items {
				if _, err := q.Exec(ctx, `INSERT INTO order_items (order_id, line, product_id, name, quantity, unit_price_cents) VALUES ($1, $2, $3, $4, $5, $6)`,
					id, i+1, it.ProductID, it.Name, it.Quantity, it.UnitPriceCents); err != nil {
					return fmt.Errorf("insert item: %w", err)
				}
				// An absolute value, computed from the read: the second
				// writer overwrites the first (a lost update).
				if _, err := q.Exec(ctx, `UPDATE products SET stock = $2 WHERE id = $1`, it.ProductID, it.stock-it.Quantity); err != nil {
					return fmt.Errorf("update stock: %w", err)
				}
			}
			if req.CouponCode != "" {
				if _, err := q.Exec(ctx, `UPDATE coupons SET redeemed = $2 WHERE id = $1`, coupon, redeemed+1); err != nil {
					return fmt.Errorf("count redemption: %w", err)
				}
				if _, err := q.Exec(ctx, `INSERT INTO workshop_coupon_uses (coupon_id, user_id, order_id) VALUES ($1, $2, $3)`, coupon, owner, id); err != nil {
					return fmt.Errorf("record redemption: %w", err)
				}
			}
			out = map[string]any{
				"id": id, "status": "pending", "total_cents": subtotal - discount, "currency": currency, "items": items,
				"shipping_address": req.ShippingAddress, "note": req.Note, "created_at": created, "updated_at": created, "discount_cents": discount,
			}
			return nil
		})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, out)
	}
}

// cancelVariant is POST /orders/{id}/cancel, check then act: the status
// the resolver read is checked in Go, then the order is cancelled by id
// alone, its units put back and, if it was paid, a refund recorded.
func cancelVariant(pool *pgxpool.Pool, inTx bool) echo.HandlerFunc {
	return func(c *echo.Context) error {
		ctx, o := c.Request().Context(), orders.OwnedOrder(c)
		err := within(ctx, pool, inTx, func(q querier) error {
			var status string
			var total int64
			if err := q.QueryRow(ctx, `SELECT status, total_cents FROM orders WHERE id = $1`, o.ID).Scan(&status, &total); err != nil {
				return err
			}
			if status != "pending" && status != "paid" {
				return orders.ErrNotCancelable
			}
			pause(ctx)
			if _, err := q.Exec(ctx, `UPDATE orders SET status = 'cancelled', updated_at = now() WHERE id = $1`, o.ID); err != nil {
				return err
			}
			if _, err := q.Exec(ctx, `UPDATE products p SET stock = p.stock + oi.quantity FROM order_items oi WHERE oi.order_id = $1 AND p.id = oi.product_id`, o.ID); err != nil {
				return err
			}
			if status == "paid" {
				_, err := q.Exec(ctx, `INSERT INTO workshop_refunds (id, order_id, amount_cents, currency) VALUES ($1, $2, $3, $4)`, uuid.New(), o.ID, total, o.Currency)
				return err
			}
			return nil
		})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"id": o.ID, "status": "cancelled"})
	}
}

// refundVariant is POST /admin/orders/{id}/refund, check then act: "paid,
// and no refund yet?" read, then a refund written.
func refundVariant(pool *pgxpool.Pool, inTx bool) echo.HandlerFunc {
	return func(c *echo.Context) error {
		ctx := c.Request().Context()
		id, err := uuid.Parse(c.Param("id"))
		if err != nil {
			return web.NotFound("Order not found.")
		}
		var out map[string]any
		err = within(ctx, pool, inTx, func(q querier) error {
			var (
				status   string
				total    int64
				currency string
				refunded bool
			)
			if err := q.QueryRow(ctx, `SELECT status, total_cents, currency, EXISTS (SELECT 1 FROM refunds WHERE order_id = $1) OR EXISTS (SELECT 1 FROM workshop_refunds WHERE order_id = $1)
				FROM orders WHERE id = $1`, id).Scan(&status, &total, &currency, &refunded); err != nil {
				return web.NotFound("Order not found.")
			}
			if refunded {
				return web.Conflict("This order has already been refunded.")
			}
			if status != "paid" && status != "shipped" && status != "delivered" {
				return web.Conflict("Only paid, shipped or delivered orders can be refunded.")
			}
			pause(ctx)
			refund := uuid.New()
			if _, err := q.Exec(ctx, `INSERT INTO workshop_refunds (id, order_id, amount_cents, currency) VALUES ($1, $2, $3, $4)`, refund, id, total, currency); err != nil {
				return err
			}
			out = map[string]any{"id": refund, "order_id": id, "amount_cents": total, "currency": currency, "reason": "refunded_by_staff", "created_at": time.Now()}
			return nil
		})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, out)
	}
}

// refundsVariant lists an order's refunds from both tables, so that what
// the variants paid out shows where staff look.
func refundsVariant(pool *pgxpool.Pool) echo.HandlerFunc {
	return func(c *echo.Context) error {
		ctx := c.Request().Context()
		rows, err := pool.Query(ctx, `
			SELECT id, order_id, amount_cents, currency, reason, created_at FROM refunds WHERE order_id = $1
			UNION ALL
			SELECT id, order_id, amount_cents, currency, 'refunded_by_staff', created_at FROM workshop_refunds WHERE order_id = $1`, c.Param("id"))
		if err != nil {
			return err
		}
		type refund struct {
			ID          uuid.UUID `json:"id"`
			OrderID     uuid.UUID `json:"order_id"`
			AmountCents int64     `json:"amount_cents"`
			Currency    string    `json:"currency"`
			Reason      string    `json:"reason"`
			CreatedAt   time.Time `json:"created_at"`
		}
		items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[refund])
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"items": items})
	}
}

// Idempotent switches the Idempotency-Key middleware of the routes that
// take one (app.Parts.Idempotent) between the secure one and check-then-act
// variants: "seen this key?" read, the handler run, the key written after.
// It decorates the middleware the way secure does, and serves that one
// when the switch is on secure.
func Idempotent(b *Board, pool *pgxpool.Pool, decorate func(echo.MiddlewareFunc) echo.MiddlewareFunc) func(echo.MiddlewareFunc) echo.MiddlewareFunc {
	return func(middleware echo.MiddlewareFunc) echo.MiddlewareFunc {
		secure := decorate(middleware)
		vulnerable, naive := idempotentVariant(pool, false), idempotentVariant(pool, true)
		return func(next echo.HandlerFunc) echo.HandlerFunc {
			s, v, n := secure(next), vulnerable(next), naive(next)
			return func(c *echo.Context) error {
				switch b.Get("business-flows") {
				case Vulnerable:
					return v(c)
				case Naive:
					return n(c)
				default:
					return s(c)
				}
			}
		}
	}
}

func idempotentVariant(pool *pgxpool.Pool, inTx bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			key := c.Request().Header.Get("Idempotency-Key")
			if key == "" {
				return next(c)
			}
			ctx, user := c.Request().Context(), auth.UserID(c)
			var replay *recorded
			err := within(ctx, pool, inTx, func(q querier) error {
				var r recorded
				err := q.QueryRow(ctx, `SELECT status, body FROM workshop_idempotency_keys WHERE user_id = $1 AND key = $2 LIMIT 1`, user, key).Scan(&r.status, &r.body)
				if err == nil {
					replay = &r
					return nil
				}
				// The check passed: the key is new. Run, then remember. The
				// naive handler's writes join this transaction.
				rec := &recorded{ResponseWriter: c.Response()}
				c.SetResponse(rec)
				req := c.Request()
				if tx, ok := q.(pgx.Tx); ok {
					c.SetRequest(req.WithContext(postgres.Enclose(ctx, tx)))
				}
				err = next(c)
				c.SetRequest(req)
				c.SetResponse(rec.ResponseWriter)
				if err != nil {
					return err
				}
				if _, err := q.Exec(ctx, `INSERT INTO workshop_idempotency_keys (user_id, key, status, body) VALUES ($1, $2, $3, $4)`, user, key, rec.status, rec.buf.Bytes()); err != nil {
					return err
				}
				replay = rec
				return nil
			})
			if err != nil {
				return err
			}
			return c.Blob(replay.status, echo.MIMEApplicationJSON, replay.body)
		}
	}
}

type recorded struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
	body   []byte
}

func (r *recorded) WriteHeader(code int) { r.status = code }
func (r *recorded) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.buf.Write(b)
	r.body = r.buf.Bytes()
	return n, err
}
func (r *recorded) Unwrap() http.ResponseWriter { return r.ResponseWriter }
