-- Orders. Naming rule: every query a customer's request can reach ends in
-- ForOwner and has owner_id in its WHERE clause, so ownership is enforced by
-- the SQL itself (docs/01-bola.md). Queries without that suffix start with
-- Admin and are reachable only through the admin routes. A query named
-- neither way stands out in review.
--
-- List queries are keyset-paginated: the cursor carries the sort key and id
-- of the last row, and the first page passes sentinel values, so every page
-- is one range scan of an index that starts with owner_id (and status, when
-- filtered) and ends with the sort key and id. One static query per sort
-- order and filter: no SQL is assembled from request input
-- (docs/05-sql-injection.md). The filter is a separate query, not
-- "($n = '' OR status = $n)", because PostgreSQL cannot use such an OR as an
-- index condition in a generic plan, and a rare status would then cost a
-- scan of every order.
--
-- Each sort has four list queries, named by one rule that tests/plan_test.go
-- reads: ListOrdersForOwner, ListOrdersForOwnerWithStatus, AdminListOrders
-- and AdminListOrdersWithStatus, followed by the sort's name in the API in
-- CamelCase and Asc or Desc ("-created_at" is ...CreatedAtDesc). All four
-- bind the same names: owner_id (customer lists), status (filtered lists),
-- after_value and after_id (the cursor's key; after_value is cast to the
-- sort column's type) and page_limit. internal/orders/list.go maps each
-- sort and filter to its query, for customers and staff in one table.

-- name: GetOrderForOwner :one
SELECT id, owner_id, status, total_cents, currency, shipping_address, note, created_at, updated_at
FROM orders
WHERE id = $1 AND owner_id = $2;

-- GET /orders/{id}: the order and its lines in one statement, so one round
-- trip (with the identity in front of it, postgres.Scoped) where an order
-- and then its items took two. The lines come as one array per column in
-- line order: pgx decodes arrays in binary, where a json_agg would be text
-- the service parses again. An order without lines gets NULL arrays. The
-- lateral subquery reaches order_items by its primary key (order_id, line)
-- for the one order the WHERE clause found by its own, whatever the plan.
-- name: GetOrderWithItemsForOwner :one
SELECT o.id, o.owner_id, o.status, o.total_cents, o.currency, o.shipping_address, o.note, o.created_at, o.updated_at,
       i.product_ids::uuid[] AS item_product_ids, i.names::text[] AS item_names,
       i.quantities::integer[] AS item_quantities, i.unit_price_cents::bigint[] AS item_unit_price_cents
FROM orders o
CROSS JOIN LATERAL (
    SELECT array_agg(oi.product_id ORDER BY oi.line) AS product_ids,
           array_agg(oi.name ORDER BY oi.line) AS names,
           array_agg(oi.quantity ORDER BY oi.line) AS quantities,
           array_agg(oi.unit_price_cents ORDER BY oi.line) AS unit_price_cents
    FROM order_items oi
    WHERE oi.order_id = o.id
) i
WHERE o.id = sqlc.arg(id) AND o.owner_id = sqlc.arg(owner_id);

-- name: ListOrdersForOwnerCreatedAtDesc :many
SELECT id, owner_id, status, total_cents, currency, shipping_address, note, created_at, updated_at
FROM orders
WHERE owner_id = sqlc.arg(owner_id)
  AND (created_at, id) < (sqlc.arg(after_value)::timestamptz, sqlc.arg(after_id)::uuid)
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(page_limit);

-- name: ListOrdersForOwnerCreatedAtAsc :many
SELECT id, owner_id, status, total_cents, currency, shipping_address, note, created_at, updated_at
FROM orders
WHERE owner_id = sqlc.arg(owner_id)
  AND (created_at, id) > (sqlc.arg(after_value)::timestamptz, sqlc.arg(after_id)::uuid)
ORDER BY created_at ASC, id ASC
LIMIT sqlc.arg(page_limit);

-- name: ListOrdersForOwnerTotalDesc :many
SELECT id, owner_id, status, total_cents, currency, shipping_address, note, created_at, updated_at
FROM orders
WHERE owner_id = sqlc.arg(owner_id)
  AND (total_cents, id) < (sqlc.arg(after_value)::bigint, sqlc.arg(after_id)::uuid)
ORDER BY total_cents DESC, id DESC
LIMIT sqlc.arg(page_limit);

-- name: ListOrdersForOwnerTotalAsc :many
SELECT id, owner_id, status, total_cents, currency, shipping_address, note, created_at, updated_at
FROM orders
WHERE owner_id = sqlc.arg(owner_id)
  AND (total_cents, id) > (sqlc.arg(after_value)::bigint, sqlc.arg(after_id)::uuid)
ORDER BY total_cents ASC, id ASC
LIMIT sqlc.arg(page_limit);

-- name: ListOrdersForOwnerWithStatusCreatedAtDesc :many
SELECT id, owner_id, status, total_cents, currency, shipping_address, note, created_at, updated_at
FROM orders
WHERE owner_id = sqlc.arg(owner_id)
  AND status = sqlc.arg(status)
  AND (created_at, id) < (sqlc.arg(after_value)::timestamptz, sqlc.arg(after_id)::uuid)
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(page_limit);

-- name: ListOrdersForOwnerWithStatusCreatedAtAsc :many
SELECT id, owner_id, status, total_cents, currency, shipping_address, note, created_at, updated_at
FROM orders
WHERE owner_id = sqlc.arg(owner_id)
  AND status = sqlc.arg(status)
  AND (created_at, id) > (sqlc.arg(after_value)::timestamptz, sqlc.arg(after_id)::uuid)
ORDER BY created_at ASC, id ASC
LIMIT sqlc.arg(page_limit);

-- name: ListOrdersForOwnerWithStatusTotalDesc :many
SELECT id, owner_id, status, total_cents, currency, shipping_address, note, created_at, updated_at
FROM orders
WHERE owner_id = sqlc.arg(owner_id)
  AND status = sqlc.arg(status)
  AND (total_cents, id) < (sqlc.arg(after_value)::bigint, sqlc.arg(after_id)::uuid)
ORDER BY total_cents DESC, id DESC
LIMIT sqlc.arg(page_limit);

-- name: ListOrdersForOwnerWithStatusTotalAsc :many
SELECT id, owner_id, status, total_cents, currency, shipping_address, note, created_at, updated_at
FROM orders
WHERE owner_id = sqlc.arg(owner_id)
  AND status = sqlc.arg(status)
  AND (total_cents, id) > (sqlc.arg(after_value)::bigint, sqlc.arg(after_id)::uuid)
ORDER BY total_cents ASC, id ASC
LIMIT sqlc.arg(page_limit);

-- name: ListOrderItemsForOwner :many
-- The items of one page of orders. The owner check is written as
-- "(...) IS TRUE" so that no index on owner_id can drive the join: a plan
-- for any owner (a generic plan, which PostgreSQL switches to after five
-- executions) would otherwise walk every order of the caller to find the
-- page's twenty, and a page would cost more the more orders its customer
-- has. This way the page's ids lead: items by their primary key, each
-- order by its primary key, then its owner compared
-- (TestPageItemsAreFetchedByID, docs/performance.md, measurement 3).
SELECT oi.order_id, oi.line, oi.product_id, oi.name, oi.quantity, oi.unit_price_cents
FROM order_items oi
JOIN orders o ON o.id = oi.order_id
WHERE oi.order_id = ANY(sqlc.arg(order_ids)::uuid[])
  AND (o.owner_id = sqlc.arg(owner_id)) IS TRUE
ORDER BY oi.order_id, oi.line;

-- name: CreateOrderForOwner :one
INSERT INTO orders (id, owner_id, status, total_cents, currency, shipping_address, note)
VALUES ($1, $2, 'pending', $3, $4, $5, $6)
RETURNING id, owner_id, status, total_cents, currency, shipping_address, note, created_at, updated_at;

-- The one customer-reachable write without an owner: it runs only inside
-- the transaction that has just created the order for its owner
-- (orders.Store.create), for that order's id. One INSERT of every line
-- (an array per column; line i is element i), not a COPY: PostgreSQL
-- refuses COPY FROM into a table under row-level security, and this insert
-- is held to the policy that the order is the caller's
-- (db/migrations/00003_row_level_security.sql).
-- name: CreateOrderItems :exec
INSERT INTO order_items (order_id, line, product_id, name, quantity, unit_price_cents)
SELECT sqlc.arg(order_id)::uuid, i, (sqlc.arg(product_ids)::uuid[])[i], (sqlc.arg(names)::text[])[i],
       (sqlc.arg(quantities)::integer[])[i], (sqlc.arg(unit_price_cents)::bigint[])[i]
FROM generate_series(1, cardinality(sqlc.arg(product_ids)::uuid[])) AS i;

-- Only pending orders may change; the status check is in the WHERE clause
-- so a concurrent status change cannot slip between a read and this write.
-- A field left NULL keeps its stored value (COALESCE), so two requests
-- changing different fields at the same time cannot undo each other.
-- name: UpdatePendingOrderForOwner :one
UPDATE orders
SET shipping_address = COALESCE(sqlc.narg(shipping_address)::jsonb, shipping_address),
    note = COALESCE(sqlc.narg(note)::text, note),
    updated_at = now()
WHERE id = sqlc.arg(id) AND owner_id = sqlc.arg(owner_id) AND status = 'pending'
RETURNING id, owner_id, status, total_cents, currency, shipping_address, note, created_at, updated_at;

-- name: CancelOrderForOwner :one
UPDATE orders
SET status = 'cancelled', updated_at = now()
WHERE id = $1 AND owner_id = $2 AND status IN ('pending', 'paid')
RETURNING id, owner_id, status, total_cents, currency, shipping_address, note, created_at, updated_at;

-- name: AdminGetOrder :one
SELECT o.id, o.owner_id, o.status, o.total_cents, o.currency, o.shipping_address, o.note, o.internal_note,
       o.created_at, o.updated_at, u.name AS customer_name, u.email AS customer_email
FROM orders o
JOIN users u ON u.id = o.owner_id
WHERE o.id = $1;

-- name: AdminListOrdersCreatedAtDesc :many
SELECT o.id, o.owner_id, o.status, o.total_cents, o.currency, o.shipping_address, o.note, o.internal_note,
       o.created_at, o.updated_at, u.name AS customer_name, u.email AS customer_email
FROM orders o
JOIN users u ON u.id = o.owner_id
WHERE (o.created_at, o.id) < (sqlc.arg(after_value)::timestamptz, sqlc.arg(after_id)::uuid)
ORDER BY o.created_at DESC, o.id DESC
LIMIT sqlc.arg(page_limit);

-- name: AdminListOrdersCreatedAtAsc :many
SELECT o.id, o.owner_id, o.status, o.total_cents, o.currency, o.shipping_address, o.note, o.internal_note,
       o.created_at, o.updated_at, u.name AS customer_name, u.email AS customer_email
FROM orders o
JOIN users u ON u.id = o.owner_id
WHERE (o.created_at, o.id) > (sqlc.arg(after_value)::timestamptz, sqlc.arg(after_id)::uuid)
ORDER BY o.created_at ASC, o.id ASC
LIMIT sqlc.arg(page_limit);

-- name: AdminListOrdersTotalDesc :many
SELECT o.id, o.owner_id, o.status, o.total_cents, o.currency, o.shipping_address, o.note, o.internal_note,
       o.created_at, o.updated_at, u.name AS customer_name, u.email AS customer_email
FROM orders o
JOIN users u ON u.id = o.owner_id
WHERE (o.total_cents, o.id) < (sqlc.arg(after_value)::bigint, sqlc.arg(after_id)::uuid)
ORDER BY o.total_cents DESC, o.id DESC
LIMIT sqlc.arg(page_limit);

-- name: AdminListOrdersTotalAsc :many
SELECT o.id, o.owner_id, o.status, o.total_cents, o.currency, o.shipping_address, o.note, o.internal_note,
       o.created_at, o.updated_at, u.name AS customer_name, u.email AS customer_email
FROM orders o
JOIN users u ON u.id = o.owner_id
WHERE (o.total_cents, o.id) > (sqlc.arg(after_value)::bigint, sqlc.arg(after_id)::uuid)
ORDER BY o.total_cents ASC, o.id ASC
LIMIT sqlc.arg(page_limit);

-- name: AdminListOrdersWithStatusCreatedAtDesc :many
SELECT o.id, o.owner_id, o.status, o.total_cents, o.currency, o.shipping_address, o.note, o.internal_note,
       o.created_at, o.updated_at, u.name AS customer_name, u.email AS customer_email
FROM orders o
JOIN users u ON u.id = o.owner_id
WHERE o.status = sqlc.arg(status)
  AND (o.created_at, o.id) < (sqlc.arg(after_value)::timestamptz, sqlc.arg(after_id)::uuid)
ORDER BY o.created_at DESC, o.id DESC
LIMIT sqlc.arg(page_limit);

-- name: AdminListOrdersWithStatusCreatedAtAsc :many
SELECT o.id, o.owner_id, o.status, o.total_cents, o.currency, o.shipping_address, o.note, o.internal_note,
       o.created_at, o.updated_at, u.name AS customer_name, u.email AS customer_email
FROM orders o
JOIN users u ON u.id = o.owner_id
WHERE o.status = sqlc.arg(status)
  AND (o.created_at, o.id) > (sqlc.arg(after_value)::timestamptz, sqlc.arg(after_id)::uuid)
ORDER BY o.created_at ASC, o.id ASC
LIMIT sqlc.arg(page_limit);

-- name: AdminListOrdersWithStatusTotalDesc :many
SELECT o.id, o.owner_id, o.status, o.total_cents, o.currency, o.shipping_address, o.note, o.internal_note,
       o.created_at, o.updated_at, u.name AS customer_name, u.email AS customer_email
FROM orders o
JOIN users u ON u.id = o.owner_id
WHERE o.status = sqlc.arg(status)
  AND (o.total_cents, o.id) < (sqlc.arg(after_value)::bigint, sqlc.arg(after_id)::uuid)
ORDER BY o.total_cents DESC, o.id DESC
LIMIT sqlc.arg(page_limit);

-- name: AdminListOrdersWithStatusTotalAsc :many
SELECT o.id, o.owner_id, o.status, o.total_cents, o.currency, o.shipping_address, o.note, o.internal_note,
       o.created_at, o.updated_at, u.name AS customer_name, u.email AS customer_email
FROM orders o
JOIN users u ON u.id = o.owner_id
WHERE o.status = sqlc.arg(status)
  AND (o.total_cents, o.id) > (sqlc.arg(after_value)::bigint, sqlc.arg(after_id)::uuid)
ORDER BY o.total_cents ASC, o.id ASC
LIMIT sqlc.arg(page_limit);

-- name: AdminListOrderItems :many
SELECT order_id, line, product_id, name, quantity, unit_price_cents
FROM order_items
WHERE order_id = ANY(sqlc.arg(order_ids)::uuid[])
ORDER BY order_id, line;

-- The expected current status (read at the start of the same request) is
-- part of the WHERE clause: if another request moved the order meanwhile,
-- nothing is updated and the caller gets a conflict (optimistic concurrency).
-- name: AdminUpdateOrder :one
UPDATE orders
SET status = sqlc.arg(new_status),
    internal_note = COALESCE(sqlc.narg(internal_note)::text, internal_note),
    updated_at = now()
WHERE id = sqlc.arg(id) AND status = sqlc.arg(expected_status)
RETURNING id;
