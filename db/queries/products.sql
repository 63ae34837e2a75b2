-- name: ListProducts :many
SELECT id, sku, name, price_cents, currency, stock
FROM products
ORDER BY sku
LIMIT 200;

-- Prices are read inside the order's transaction: the total is computed
-- from these rows, never from anything the client sent.
-- name: GetProductsByIDs :many
SELECT id, name, price_cents, currency
FROM products
WHERE id = ANY(sqlc.arg(ids)::uuid[]);
