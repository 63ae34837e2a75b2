-- +goose Up
-- Row-level security: the second wall behind every ownership check in the
-- SQL (docs/01-bola.md). The service connects as bulwark_app, a role that
-- owns nothing, is no superuser and has no BYPASSRLS, so PostgreSQL applies
-- the policies below to every statement it runs, whatever the WHERE clause
-- says. A query that forgets its owner condition still returns only the
-- caller's rows.
--
-- Who the caller is travels with each statement, transaction-locally, as two
-- settings (internal/postgres/scoped.go):
--   bulwark.user_id  the authenticated user's id;
--   bulwark.scope    what the request is allowed to be:
--     customer     a signed-in user: their own rows
--     staff        an admin, after auth.RequireRole: every order (read, update)
--     auth         sign-in, registration, refresh, logout, before an identity
--                  exists: accounts and refresh tokens, nothing else
--     download     a signed download link: file rows (read), nothing else
--     maintenance  the table owner only (seed, workshop reset)
-- A request that set neither sees NULL and '' here, which no policy admits:
-- a missing identity fails closed, with no rows rather than all rows.
--
-- Bulwark's own security does not rest on these settings being secret: any
-- SQL the service runs can call set_config, so row-level security stops the
-- application's mistakes (a forgotten owner condition, a wrong id), not an
-- attacker who can run SQL of their own (docs/05-sql-injection.md holds
-- that wall).

-- The two settings, as functions so that policies read as sentences. SQL,
-- STABLE and not SECURITY DEFINER, so the planner inlines them and can use
-- "owner_id = bulwark_user_id()" as an index condition.
-- +goose StatementBegin
CREATE FUNCTION bulwark_user_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(current_setting('bulwark.user_id', true), '')::uuid $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION bulwark_scope() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT coalesce(current_setting('bulwark.scope', true), '') $$;
-- +goose StatementEnd

-- The service's privileges: what its code runs, nothing more. No DELETE but
-- on files (a customer deletes an attachment), no TRUNCATE, no DDL, and
-- nothing at all on goose's version table.
GRANT SELECT, INSERT, UPDATE ON users TO bulwark_app;
GRANT SELECT, INSERT, UPDATE ON refresh_tokens TO bulwark_app;
GRANT SELECT ON products TO bulwark_app;
GRANT SELECT, INSERT, UPDATE ON orders TO bulwark_app;
GRANT SELECT, INSERT ON order_items TO bulwark_app;
GRANT SELECT, INSERT, DELETE ON files TO bulwark_app;

-- Every table with per-customer rows. products is the public catalogue and
-- has none. FORCE makes the policies bind the tables' owner too, so a
-- service misconfigured to connect as the owner still fails closed; the
-- owner gets its rows only by asking for the maintenance scope.
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE refresh_tokens FORCE ROW LEVEL SECURITY;
ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
ALTER TABLE orders FORCE ROW LEVEL SECURITY;
ALTER TABLE order_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE order_items FORCE ROW LEVEL SECURITY;
ALTER TABLE files ENABLE ROW LEVEL SECURITY;
ALTER TABLE files FORCE ROW LEVEL SECURITY;

-- Policies are permissive and OR together: a row is visible when any one
-- admits it. Each names its scope, so a scope sees only what its policies
-- list. The maintenance policies are granted TO CURRENT_USER, the role
-- running this migration (the owner): the service cannot use that scope
-- even by setting it.

-- users: a customer reads and renames their own account. Sign-in reads any
-- account (by email, before anyone is signed in) and registration creates
-- customers only: no request can create an admin. Staff read the accounts
-- of the orders they list (name, email).
CREATE POLICY users_customer ON users FOR ALL
    USING (bulwark_scope() = 'customer' AND id = bulwark_user_id())
    WITH CHECK (bulwark_scope() = 'customer' AND id = bulwark_user_id());
CREATE POLICY users_auth_read ON users FOR SELECT
    USING (bulwark_scope() = 'auth');
CREATE POLICY users_auth_register ON users FOR INSERT
    WITH CHECK (bulwark_scope() = 'auth' AND role = 'customer');
CREATE POLICY users_staff_read ON users FOR SELECT
    USING (bulwark_scope() = 'staff');
CREATE POLICY users_maintenance ON users FOR ALL TO CURRENT_USER
    USING (bulwark_scope() = 'maintenance')
    WITH CHECK (bulwark_scope() = 'maintenance');

-- refresh_tokens: only sign-in, refresh and logout touch them, and those
-- find a token by its hash before anyone is signed in; a signed-in request
-- (customer or staff) sees none.
CREATE POLICY refresh_tokens_auth ON refresh_tokens FOR ALL
    USING (bulwark_scope() = 'auth')
    WITH CHECK (bulwark_scope() = 'auth');
CREATE POLICY refresh_tokens_maintenance ON refresh_tokens FOR ALL TO CURRENT_USER
    USING (bulwark_scope() = 'maintenance')
    WITH CHECK (bulwark_scope() = 'maintenance');

-- orders: a customer's own, for every command; staff read and update any
-- (the staff API neither creates nor deletes orders).
CREATE POLICY orders_customer ON orders FOR ALL
    USING (bulwark_scope() = 'customer' AND owner_id = bulwark_user_id())
    WITH CHECK (bulwark_scope() = 'customer' AND owner_id = bulwark_user_id());
CREATE POLICY orders_staff_read ON orders FOR SELECT
    USING (bulwark_scope() = 'staff');
CREATE POLICY orders_staff_update ON orders FOR UPDATE
    USING (bulwark_scope() = 'staff')
    WITH CHECK (bulwark_scope() = 'staff');
CREATE POLICY orders_maintenance ON orders FOR ALL TO CURRENT_USER
    USING (bulwark_scope() = 'maintenance')
    WITH CHECK (bulwark_scope() = 'maintenance');

-- order_items have no owner column: a line is visible exactly when its
-- order is. The subquery on orders runs under orders' own policies, so the
-- rule is written once, there. New lines go only into the caller's own
-- order.
CREATE POLICY order_items_by_order ON order_items FOR SELECT
    USING (EXISTS (SELECT 1 FROM orders o WHERE o.id = order_id));
CREATE POLICY order_items_customer_insert ON order_items FOR INSERT
    WITH CHECK (bulwark_scope() = 'customer'
                AND EXISTS (SELECT 1 FROM orders o WHERE o.id = order_id AND o.owner_id = bulwark_user_id()));
CREATE POLICY order_items_maintenance ON order_items FOR ALL TO CURRENT_USER
    USING (bulwark_scope() = 'maintenance')
    WITH CHECK (bulwark_scope() = 'maintenance');

-- files: a customer's own. A signed download link finds its file by the
-- object key, with no one signed in: the verified signature is the
-- permission (docs/06-file-access.md), and the download scope may only read.
CREATE POLICY files_customer ON files FOR ALL
    USING (bulwark_scope() = 'customer' AND owner_id = bulwark_user_id())
    WITH CHECK (bulwark_scope() = 'customer' AND owner_id = bulwark_user_id());
CREATE POLICY files_download ON files FOR SELECT
    USING (bulwark_scope() = 'download');
CREATE POLICY files_maintenance ON files FOR ALL TO CURRENT_USER
    USING (bulwark_scope() = 'maintenance')
    WITH CHECK (bulwark_scope() = 'maintenance');

-- +goose Down
DROP POLICY files_maintenance ON files;
DROP POLICY files_download ON files;
DROP POLICY files_customer ON files;
DROP POLICY order_items_maintenance ON order_items;
DROP POLICY order_items_customer_insert ON order_items;
DROP POLICY order_items_by_order ON order_items;
DROP POLICY orders_maintenance ON orders;
DROP POLICY orders_staff_update ON orders;
DROP POLICY orders_staff_read ON orders;
DROP POLICY orders_customer ON orders;
DROP POLICY refresh_tokens_maintenance ON refresh_tokens;
DROP POLICY refresh_tokens_auth ON refresh_tokens;
DROP POLICY users_maintenance ON users;
DROP POLICY users_staff_read ON users;
DROP POLICY users_auth_register ON users;
DROP POLICY users_auth_read ON users;
DROP POLICY users_customer ON users;
ALTER TABLE files NO FORCE ROW LEVEL SECURITY;
ALTER TABLE files DISABLE ROW LEVEL SECURITY;
ALTER TABLE order_items NO FORCE ROW LEVEL SECURITY;
ALTER TABLE order_items DISABLE ROW LEVEL SECURITY;
ALTER TABLE orders NO FORCE ROW LEVEL SECURITY;
ALTER TABLE orders DISABLE ROW LEVEL SECURITY;
ALTER TABLE refresh_tokens NO FORCE ROW LEVEL SECURITY;
ALTER TABLE refresh_tokens DISABLE ROW LEVEL SECURITY;
ALTER TABLE users NO FORCE ROW LEVEL SECURITY;
ALTER TABLE users DISABLE ROW LEVEL SECURITY;
REVOKE ALL ON files, order_items, orders, products, refresh_tokens, users FROM bulwark_app;
DROP FUNCTION bulwark_scope();
DROP FUNCTION bulwark_user_id();
