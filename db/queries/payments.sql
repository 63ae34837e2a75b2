-- Payments. The webhook's caller is the payment provider, not a customer:
-- its verified signature is the permission (docs/11-third-party-data.md),
-- so these queries carry no owner. They are listed as exceptions to the
-- owner-scoped-names rule in sqlc.yaml, and reached only from
-- internal/payments after the signature check.

-- The dedupe: a second delivery of the same event inserts nothing and
-- returns no row.
-- name: RecordPaymentEvent :one
INSERT INTO payment_events (event_id, order_id, payment_id, amount_cents, currency)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id;

-- Every condition of the transition is in the WHERE clause, so a
-- concurrent change cannot slip between a check and this write: only a
-- pending order whose total and currency are exactly what was paid
-- becomes paid.
-- name: PayPendingOrderFromProvider :one
UPDATE orders
SET status = 'paid', payment_reference = sqlc.arg(payment_reference), updated_at = now()
WHERE id = sqlc.arg(id)
  AND status = 'pending'
  AND total_cents = sqlc.arg(amount_cents)
  AND currency = sqlc.arg(currency)
RETURNING id;

-- Why an event did not apply, for the log.
-- name: GetOrderPaymentState :one
SELECT status, total_cents, currency
FROM orders
WHERE id = $1;
