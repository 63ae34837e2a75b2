-- Queries used only by `api seed` to load the demo data. They are idempotent
-- so that seeding twice leaves one copy.

-- name: SeedUser :exec
INSERT INTO users (id, email, name, password_hash, role)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (email) DO NOTHING;

-- name: SeedProduct :exec
INSERT INTO products (id, sku, name, price_cents, currency, stock)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (sku) DO NOTHING;

-- name: SeedOrder :execrows
INSERT INTO orders (id, owner_id, status, total_cents, currency, shipping_address, note, internal_note, payment_reference)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (id) DO NOTHING;

-- name: SeedOrderItem :exec
INSERT INTO order_items (order_id, line, product_id, name, quantity, unit_price_cents)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (order_id, line) DO NOTHING;
