-- A page of the catalogue, keyset on the unique sku: each page is one
-- range scan of products_sku_key, however large the catalogue grows.
-- name: ListProducts :many
SELECT id, sku, name, price_cents, currency, stock
FROM products
WHERE sqlc.narg(after_sku)::text IS NULL OR sku > sqlc.narg(after_sku)::text
ORDER BY sku
LIMIT sqlc.arg(row_limit);

-- Prices are read inside the order's transaction: the total is computed
-- from these rows, never from anything the client sent.
-- name: GetProductsByIDs :many
SELECT id, name, price_cents, currency
FROM products
WHERE id = ANY(sqlc.arg(ids)::uuid[]);
