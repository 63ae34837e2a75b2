-- Stock, coupons and refunds (docs/12-business-flows.md). Each query that
-- guards an invariant says which, and the database enforces it in the
-- statement itself: a parallel burst of the same request cannot pass a
-- check that another request's write has already made false.

-- Stock is taken by one conditional UPDATE per line: under READ COMMITTED
-- a concurrent order waits for this row's lock, then re-reads the row and
-- re-checks stock >= quantity against the committed count, so two orders
-- can never both take the last unit. Zero rows means out of stock.
-- name: ReserveStock :execrows
UPDATE products
SET stock = stock - sqlc.arg(quantity)::integer
WHERE id = sqlc.arg(id) AND stock >= sqlc.arg(quantity)::integer;

-- Runs only in the transaction whose conditional status change cancelled
-- the order, so it runs once per order.
-- name: RestockProduct :exec
UPDATE products
SET stock = stock + sqlc.arg(quantity)::integer
WHERE id = sqlc.arg(id);

-- The status under a row lock, read in the cancel's transaction before the
-- conditional UPDATE: it says whether the order was paid (and so needs a
-- refund), and no other transaction can change it until this one ends.
-- NO KEY UPDATE, the lock the UPDATE itself takes, not FOR UPDATE: the
-- latter would also block the foreign-key check of a staff refund being
-- inserted for this order (FOR KEY SHARE), while the cancel's own refund
-- insert waits on that refund's unique key: a deadlock, found by
-- TestRaceRefundsAtMostOncePerOrder.
-- name: GetOrderStatusForOwnerForUpdate :one
SELECT status
FROM orders
WHERE id = $1 AND owner_id = $2
FOR NO KEY UPDATE;

-- The stock an order holds, per product, in product order: releasing in
-- the same order reservations take rows in avoids deadlocks between them.
-- name: ListOrderStockForOwner :many
SELECT oi.product_id, oi.quantity
FROM order_items oi
JOIN orders o ON o.id = oi.order_id
WHERE oi.order_id = sqlc.arg(order_id) AND o.owner_id = sqlc.arg(owner_id)
ORDER BY oi.product_id;

-- name: AdminListOrderStock :many
SELECT product_id, quantity
FROM order_items
WHERE order_id = $1
ORDER BY product_id;

-- A coupon's terms, read without a lock to price the order: they never
-- change once created. Whether it may still be redeemed is decided by
-- RedeemCoupon, not here.
-- name: GetCouponTerms :one
SELECT id, percent_off, amount_off_cents, currency
FROM coupons
WHERE code_hash = $1;

-- The global limit and the expiry are in the WHERE clause: the row lock
-- this UPDATE takes serialises redemptions of one coupon, and each
-- re-checks redeemed < max_redemptions on the latest row. The CHECK
-- coupons_redeemed_within_limit is the backstop. Zero rows: expired or
-- spent (GetCouponState says which).
-- name: RedeemCoupon :execrows
UPDATE coupons
SET redeemed = redeemed + 1
WHERE id = sqlc.arg(id) AND redeemed < max_redemptions AND expires_at > now();

-- name: GetCouponState :one
SELECT redeemed, max_redemptions, expires_at <= now() AS expired
FROM coupons
WHERE id = $1;

-- The primary key (coupon_id, user_id) is the one-per-customer rule: a
-- second redemption by the same customer fails here, and its transaction,
-- the order and the counter increment with it, rolls back.
-- name: CreateCouponRedemption :exec
INSERT INTO coupon_redemptions (coupon_id, user_id, order_id, discount_cents)
VALUES ($1, $2, $3, $4);

-- name: CreateCoupon :one
INSERT INTO coupons (id, code_hash, code_hint, percent_off, amount_off_cents, currency, max_redemptions, expires_at, created_by)
VALUES (sqlc.arg(id), sqlc.arg(code_hash), sqlc.arg(code_hint), sqlc.narg(percent_off), sqlc.narg(amount_off_cents), sqlc.arg(currency),
        sqlc.arg(max_redemptions), sqlc.arg(expires_at), sqlc.arg(created_by)::uuid)
RETURNING id, code_hint, percent_off, amount_off_cents, currency, max_redemptions, redeemed, expires_at, created_at;

-- name: ListCoupons :many
SELECT id, code_hint, percent_off, amount_off_cents, currency, max_redemptions, redeemed, expires_at, created_at
FROM coupons
ORDER BY created_at DESC, id DESC
LIMIT 100;

-- A customer's cancel of a paid order refunds it in the cancel's own
-- transaction. UNIQUE (order_id) allows one refund per order; a refund
-- already made (by staff, or by a cancel that won) is the outcome wanted,
-- so the conflict does nothing.
-- name: RefundCancelledOrderForOwner :execrows
INSERT INTO refunds (id, order_id, owner_id, amount_cents, currency, reason, created_by)
SELECT sqlc.arg(id), o.id, o.owner_id, o.total_cents, o.currency, 'cancelled_by_customer', o.owner_id
FROM orders o
WHERE o.id = sqlc.arg(order_id) AND o.owner_id = sqlc.arg(owner_id)
ON CONFLICT (order_id) DO NOTHING;

-- name: AdminRefundCancelledOrder :execrows
INSERT INTO refunds (id, order_id, owner_id, amount_cents, currency, reason, created_by)
SELECT sqlc.arg(id), o.id, o.owner_id, o.total_cents, o.currency, 'cancelled_by_staff', sqlc.arg(created_by)::uuid
FROM orders o
WHERE o.id = sqlc.arg(order_id)
ON CONFLICT (order_id) DO NOTHING;

-- The staff refund: a paid, shipped or delivered order, once. A second
-- refund violates refunds_once_per_order and is answered 409; there is no
-- "already refunded?" read before it that a burst could all pass.
-- name: AdminRefundOrder :one
INSERT INTO refunds (id, order_id, owner_id, amount_cents, currency, reason, created_by)
SELECT sqlc.arg(id), o.id, o.owner_id, o.total_cents, o.currency, 'refunded_by_staff', sqlc.arg(created_by)::uuid
FROM orders o
WHERE o.id = sqlc.arg(order_id) AND o.status IN ('paid', 'shipped', 'delivered')
RETURNING id, order_id, owner_id, amount_cents, currency, reason, created_at;

-- name: AdminListRefunds :many
SELECT id, order_id, owner_id, amount_cents, currency, reason, created_at
FROM refunds
WHERE order_id = $1
ORDER BY created_at, id
LIMIT 100;
