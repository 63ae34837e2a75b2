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
-- STABLE and not SECURITY DEFINER, so the planner inlines them: a test of
-- the scope alone has no column in it, so the planner checks it once per
-- statement (a one-time filter), not once per row.
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

-- bulwark_scope_in('customer', 'staff') is bulwark_scope_in(...),
-- written as "its position in the list IS NOT NULL" for the planner's sake.
-- A test with no column in it is still checked on every row under row-level
-- security, and the planner has to guess how many rows pass. It guesses an
-- equality on an unknown value true for one row in 200, but IS NOT NULL
-- true for 199 in 200: with IN, every list looked 200 times rarer than it
-- is, and the planner fetched and sorted all of a customer's orders
-- instead of reading one page of an index in order (tests/plan_test.go
-- plans every list under these policies). A scope not listed, the empty
-- one included, is not admitted.
-- +goose StatementBegin
CREATE FUNCTION bulwark_scope_in(VARIADIC scopes text[]) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT array_position(scopes, bulwark_scope()) IS NOT NULL $$;
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

-- Two kinds of policy per table.
--
-- Permissive policies, one per command, say which scopes may run it at
-- all (bulwark_scope_in); they OR together.
--
-- One RESTRICTIVE policy says that a customer's rows are their own:
--   bulwark_scope() <> 'customer' OR owner_id = bulwark_user_id()
-- Restrictive policies AND with everything else, so no permissive policy
-- added later can widen what a customer sees. It is written with "<>" for
-- the planner, as bulwark_scope_in is: the planner guesses it true for
-- almost every row, as it is for the rows a customer's own query selects.
--
-- The maintenance policies are granted TO CURRENT_USER, the role running
-- this migration (the owner): the service cannot use that scope even by
-- setting it.

-- users: a customer reads and renames their own account. Sign-in reads any
-- account (by email, before anyone is signed in) and registration creates
-- customers only: no request can create an admin. Staff read the accounts
-- of the orders they list (name, email).
CREATE POLICY users_read ON users FOR SELECT
    USING (bulwark_scope_in('customer', 'staff', 'auth'));
CREATE POLICY users_register ON users FOR INSERT
    WITH CHECK (bulwark_scope_in('auth') AND role = 'customer');
CREATE POLICY users_rename ON users FOR UPDATE
    USING (bulwark_scope_in('customer'))
    WITH CHECK (bulwark_scope_in('customer'));
CREATE POLICY users_own ON users AS RESTRICTIVE FOR ALL
    USING (bulwark_scope() <> 'customer' OR id = bulwark_user_id())
    WITH CHECK (bulwark_scope() <> 'customer' OR id = bulwark_user_id());
CREATE POLICY users_maintenance ON users FOR ALL TO CURRENT_USER
    USING (bulwark_scope_in('maintenance'))
    WITH CHECK (bulwark_scope_in('maintenance'));

-- refresh_tokens: only sign-in, refresh and logout touch them, and those
-- find a token by its hash before anyone is signed in; a signed-in request
-- (customer or staff) sees none.
CREATE POLICY refresh_tokens_auth ON refresh_tokens FOR ALL
    USING (bulwark_scope_in('auth'))
    WITH CHECK (bulwark_scope_in('auth'));
CREATE POLICY refresh_tokens_maintenance ON refresh_tokens FOR ALL TO CURRENT_USER
    USING (bulwark_scope_in('maintenance'))
    WITH CHECK (bulwark_scope_in('maintenance'));

-- orders: a customer reads, creates and changes their own; staff read and
-- update any (the staff API neither creates nor deletes orders).
CREATE POLICY orders_read ON orders FOR SELECT
    USING (bulwark_scope_in('customer', 'staff'));
CREATE POLICY orders_create ON orders FOR INSERT
    WITH CHECK (bulwark_scope_in('customer'));
CREATE POLICY orders_change ON orders FOR UPDATE
    USING (bulwark_scope_in('customer', 'staff'))
    WITH CHECK (bulwark_scope_in('customer', 'staff'));
CREATE POLICY orders_own ON orders AS RESTRICTIVE FOR ALL
    USING (bulwark_scope() <> 'customer' OR owner_id = bulwark_user_id())
    WITH CHECK (bulwark_scope() <> 'customer' OR owner_id = bulwark_user_id());
CREATE POLICY orders_maintenance ON orders FOR ALL TO CURRENT_USER
    USING (bulwark_scope_in('maintenance'))
    WITH CHECK (bulwark_scope_in('maintenance'));

-- order_items have no owner column: a line is visible exactly when its
-- order is. The subquery on orders runs under orders' own policies, so the
-- rule is written once, there. New lines go only into the caller's own
-- order.
CREATE POLICY order_items_read ON order_items FOR SELECT
    USING (EXISTS (SELECT 1 FROM orders o WHERE o.id = order_id));
CREATE POLICY order_items_create ON order_items FOR INSERT
    WITH CHECK (bulwark_scope_in('customer')
                AND EXISTS (SELECT 1 FROM orders o WHERE o.id = order_id AND o.owner_id = bulwark_user_id()));
CREATE POLICY order_items_maintenance ON order_items FOR ALL TO CURRENT_USER
    USING (bulwark_scope_in('maintenance'))
    WITH CHECK (bulwark_scope_in('maintenance'));

-- files: a customer's own. A signed download link finds its file by the
-- object key, with no one signed in: the verified signature is the
-- permission (docs/06-file-access.md), and the download scope may only read.
CREATE POLICY files_read ON files FOR SELECT
    USING (bulwark_scope_in('customer', 'download'));
CREATE POLICY files_create ON files FOR INSERT
    WITH CHECK (bulwark_scope_in('customer'));
CREATE POLICY files_delete ON files FOR DELETE
    USING (bulwark_scope_in('customer'));
CREATE POLICY files_own ON files AS RESTRICTIVE FOR ALL
    USING (bulwark_scope() <> 'customer' OR owner_id = bulwark_user_id())
    WITH CHECK (bulwark_scope() <> 'customer' OR owner_id = bulwark_user_id());
CREATE POLICY files_maintenance ON files FOR ALL TO CURRENT_USER
    USING (bulwark_scope_in('maintenance'))
    WITH CHECK (bulwark_scope_in('maintenance'));

-- +goose Down
DROP POLICY files_maintenance ON files;
DROP POLICY files_own ON files;
DROP POLICY files_delete ON files;
DROP POLICY files_create ON files;
DROP POLICY files_read ON files;
DROP POLICY order_items_maintenance ON order_items;
DROP POLICY order_items_create ON order_items;
DROP POLICY order_items_read ON order_items;
DROP POLICY orders_maintenance ON orders;
DROP POLICY orders_own ON orders;
DROP POLICY orders_change ON orders;
DROP POLICY orders_create ON orders;
DROP POLICY orders_read ON orders;
DROP POLICY refresh_tokens_maintenance ON refresh_tokens;
DROP POLICY refresh_tokens_auth ON refresh_tokens;
DROP POLICY users_maintenance ON users;
DROP POLICY users_own ON users;
DROP POLICY users_rename ON users;
DROP POLICY users_register ON users;
DROP POLICY users_read ON users;
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
DROP FUNCTION bulwark_scope_in(text[]);
DROP FUNCTION bulwark_scope();
DROP FUNCTION bulwark_user_id();
