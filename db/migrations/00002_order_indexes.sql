-- +goose Up
-- The admin list sorts all orders by total; created_at is covered by
-- orders_created_idx from 00001.
CREATE INDEX orders_total_idx ON orders (total_cents, id);

-- +goose Down
DROP INDEX orders_total_idx;
