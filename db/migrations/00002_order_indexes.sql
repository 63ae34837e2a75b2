-- +goose Up
-- One index per list query shape (db/queries/orders.sql): equality columns
-- first, then the sort key and id, so that every page of every list is one
-- index range scan in order, with no Sort node, whatever the table's size
-- (tests/plan_test.go proves it with EXPLAIN; its one exception is a rare
-- status of one customer, where the planner may sort the few rows of the
-- same index range instead).
CREATE INDEX orders_total_idx ON orders (total_cents, id);
CREATE INDEX orders_status_created_idx ON orders (status, created_at, id);
CREATE INDEX orders_status_total_idx ON orders (status, total_cents, id);
CREATE INDEX orders_owner_status_created_idx ON orders (owner_id, status, created_at, id);
CREATE INDEX orders_owner_status_total_idx ON orders (owner_id, status, total_cents, id);

-- +goose Down
DROP INDEX orders_owner_status_total_idx;
DROP INDEX orders_owner_status_created_idx;
DROP INDEX orders_status_total_idx;
DROP INDEX orders_status_created_idx;
DROP INDEX orders_total_idx;
