-- +goose Up
-- Sensitive business flows (docs/12-business-flows.md, OWASP API6:2023).
-- Every invariant a parallel burst could break is held here, by a CHECK,
-- a UNIQUE or PRIMARY KEY constraint, or the conditional UPDATE its query
-- runs (db/queries/business_flows.sql), never by a read in Go followed by
-- a write.
--
-- Per-customer rows (row-level security needs a policy on each): refunds
-- (owner_id), coupon_redemptions (user_id), idempotency_keys (user_id),
-- user_mfa (user_id), mfa_recovery_codes (user_id). coupons is staff data,
-- read by customers only through a redemption by code. All six are under
-- forced row-level security, with grants and policies at the end of this
-- file.

-- Stock: an order reserves its units with
-- UPDATE ... SET stock = stock - qty WHERE stock >= qty; the CHECK is the
-- backstop that turns any other write taking stock below zero into an
-- error instead of an oversold product. A product without stock cannot be
-- sold: the default is 0, and the seed and staff set real counts.
ALTER TABLE products
    ADD COLUMN stock integer NOT NULL DEFAULT 0,
    ADD CONSTRAINT products_stock_not_negative CHECK (stock >= 0);

-- Coupons: only the SHA-256 of a code is stored. Codes are 100 random bits
-- (internal/coupons/code.go), so a plain hash is enough, as for refresh
-- tokens: there is nothing to guess, and a copy of this table redeems
-- nothing. code_hint is the code's last four characters, for staff lists.
CREATE TABLE coupons (
    id               uuid PRIMARY KEY,
    code_hash        bytea NOT NULL UNIQUE CHECK (length(code_hash) = 32),
    code_hint        text NOT NULL CHECK (length(code_hint) = 4),
    percent_off      integer CHECK (percent_off BETWEEN 1 AND 100),
    amount_off_cents bigint CHECK (amount_off_cents BETWEEN 1 AND 100000000),
    currency         char(3) NOT NULL DEFAULT 'EUR',
    max_redemptions  integer NOT NULL CHECK (max_redemptions BETWEEN 1 AND 1000000),
    redeemed         integer NOT NULL DEFAULT 0,
    expires_at       timestamptz NOT NULL,
    created_by       uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- One kind of discount per coupon.
    CONSTRAINT coupons_one_discount CHECK ((percent_off IS NULL) <> (amount_off_cents IS NULL)),
    -- The global limit, held by the database: a redemption past it fails
    -- whatever the code in front of it does.
    CONSTRAINT coupons_redeemed_within_limit CHECK (redeemed BETWEEN 0 AND max_redemptions)
);

-- One row per redemption. The primary key is the one-per-customer rule;
-- order_id is unique because an order takes at most one coupon.
CREATE TABLE coupon_redemptions (
    coupon_id      uuid NOT NULL REFERENCES coupons (id) ON DELETE CASCADE,
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    order_id       uuid NOT NULL UNIQUE REFERENCES orders (id) ON DELETE CASCADE,
    discount_cents bigint NOT NULL CHECK (discount_cents >= 0),
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT coupon_redemptions_one_per_customer PRIMARY KEY (coupon_id, user_id)
);
CREATE INDEX coupon_redemptions_user_idx ON coupon_redemptions (user_id);

-- Refunds: exactly one per order, whoever asks and however often. Cancel
-- paths insert with ON CONFLICT DO NOTHING (a refund already made is the
-- outcome they want); the staff refund route lets the conflict answer 409.
CREATE TABLE refunds (
    id           uuid PRIMARY KEY,
    order_id     uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    owner_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
    currency     char(3) NOT NULL,
    reason       text NOT NULL CHECK (reason IN ('cancelled_by_customer', 'cancelled_by_staff', 'refunded_by_staff')),
    created_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT refunds_once_per_order UNIQUE (order_id)
);
CREATE INDEX refunds_owner_idx ON refunds (owner_id);

-- Idempotency keys: a row exists if and only if the effect it names
-- committed, because it is inserted in the effect's own transaction
-- (internal/idempotency). The primary key makes a second effect for one
-- (caller, key) impossible even if the advisory lock in front of it were
-- removed.
CREATE TABLE idempotency_keys (
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash bytea NOT NULL CHECK (length(request_hash) = 32),
    status_code  integer NOT NULL CHECK (status_code BETWEEN 200 AND 299),
    content_type text NOT NULL CHECK (length(content_type) <= 255),
    body         bytea NOT NULL CHECK (length(body) <= 1048576),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    CONSTRAINT idempotency_keys_once_per_caller PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_user_expiry_idx ON idempotency_keys (user_id, expires_at);

-- Second factor (TOTP, RFC 6238). last_step is the last time step a code
-- was accepted for; a code is accepted only by
-- UPDATE ... SET last_step = $step WHERE last_step < $step, so a code seen
-- once (or an older one) is refused, even by two requests at once.
-- The secret must be readable to check codes, so it cannot be hashed
-- (docs/12-business-flows.md, known gaps: it is not encrypted either).
CREATE TABLE user_mfa (
    user_id      uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret       text NOT NULL CHECK (length(secret) BETWEEN 16 AND 128),
    confirmed_at timestamptz,
    last_step    bigint NOT NULL DEFAULT 0 CHECK (last_step >= 0),
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Recovery codes: SHA-256 of 80 random bits each, spent by
-- UPDATE ... SET used_at = now() WHERE used_at IS NULL.
CREATE TABLE mfa_recovery_codes (
    user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash bytea NOT NULL CHECK (length(code_hash) = 32),
    used_at   timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

-- Row-level security (00003_row_level_security.sql), in the same style:
-- the service's role gets only what its code runs, every table below is
-- under forced row-level security, permissive policies per command say
-- which scopes may run it, and one RESTRICTIVE policy per table keeps a
-- customer to their own rows.
--
-- Privileges. Stock is the one column of products the service may
-- change (reserve, restock); coupons' counter is the one column of
-- coupons it may change (a redemption). No DELETE but on the caller's
-- expired idempotency keys and on recovery codes being replaced.
GRANT UPDATE (stock) ON products TO bulwark_app;
GRANT SELECT, INSERT ON coupons TO bulwark_app;
GRANT UPDATE (redeemed) ON coupons TO bulwark_app;
GRANT SELECT, INSERT ON coupon_redemptions TO bulwark_app;
GRANT SELECT, INSERT ON refunds TO bulwark_app;
GRANT SELECT, INSERT, DELETE ON idempotency_keys TO bulwark_app;
GRANT SELECT, INSERT, UPDATE ON user_mfa TO bulwark_app;
GRANT SELECT, INSERT, DELETE ON mfa_recovery_codes TO bulwark_app;
GRANT UPDATE (used_at) ON mfa_recovery_codes TO bulwark_app;

ALTER TABLE coupons ENABLE ROW LEVEL SECURITY;
ALTER TABLE coupons FORCE ROW LEVEL SECURITY;
ALTER TABLE coupon_redemptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE coupon_redemptions FORCE ROW LEVEL SECURITY;
ALTER TABLE refunds ENABLE ROW LEVEL SECURITY;
ALTER TABLE refunds FORCE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
ALTER TABLE user_mfa ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_mfa FORCE ROW LEVEL SECURITY;
ALTER TABLE mfa_recovery_codes ENABLE ROW LEVEL SECURITY;
ALTER TABLE mfa_recovery_codes FORCE ROW LEVEL SECURITY;

-- coupons are staff data with no owner: staff create and list them; a
-- customer's order reads a coupon's terms by the code's hash and counts a
-- redemption. Nothing else: sign-in, downloads and the provider see none.
CREATE POLICY coupons_read ON coupons FOR SELECT
    USING (bulwark_scope_in('customer', 'staff'));
CREATE POLICY coupons_create ON coupons FOR INSERT
    WITH CHECK (bulwark_scope_in('staff'));
CREATE POLICY coupons_redeem ON coupons FOR UPDATE
    USING (bulwark_scope_in('customer'))
    WITH CHECK (bulwark_scope_in('customer'));
CREATE POLICY coupons_maintenance ON coupons FOR ALL TO CURRENT_USER
    USING (bulwark_scope_in('maintenance'))
    WITH CHECK (bulwark_scope_in('maintenance'));

-- coupon_redemptions: a customer redeems for themself, in their own order's
-- transaction; staff may read them.
CREATE POLICY coupon_redemptions_read ON coupon_redemptions FOR SELECT
    USING (bulwark_scope_in('customer', 'staff'));
CREATE POLICY coupon_redemptions_create ON coupon_redemptions FOR INSERT
    WITH CHECK (bulwark_scope_in('customer'));
CREATE POLICY coupon_redemptions_own ON coupon_redemptions AS RESTRICTIVE FOR ALL
    USING (bulwark_scope() <> 'customer' OR user_id = bulwark_user_id())
    WITH CHECK (bulwark_scope() <> 'customer' OR user_id = bulwark_user_id());
CREATE POLICY coupon_redemptions_maintenance ON coupon_redemptions FOR ALL TO CURRENT_USER
    USING (bulwark_scope_in('maintenance'))
    WITH CHECK (bulwark_scope_in('maintenance'));

-- refunds: a customer's cancel refunds their own order; staff refund and
-- list any order's. Nobody changes or deletes one.
CREATE POLICY refunds_read ON refunds FOR SELECT
    USING (bulwark_scope_in('customer', 'staff'));
CREATE POLICY refunds_create ON refunds FOR INSERT
    WITH CHECK (bulwark_scope_in('customer', 'staff'));
CREATE POLICY refunds_own ON refunds AS RESTRICTIVE FOR ALL
    USING (bulwark_scope() <> 'customer' OR owner_id = bulwark_user_id())
    WITH CHECK (bulwark_scope() <> 'customer' OR owner_id = bulwark_user_id());
CREATE POLICY refunds_maintenance ON refunds FOR ALL TO CURRENT_USER
    USING (bulwark_scope_in('maintenance'))
    WITH CHECK (bulwark_scope_in('maintenance'));

-- idempotency_keys belong to whoever sent them, customer or staff (the
-- staff refund takes a key too): each scope sees its own caller's keys
-- only, so the permissive policy names the owner as well as the scope.
CREATE POLICY idempotency_keys_caller ON idempotency_keys FOR ALL
    USING (bulwark_scope_in('customer', 'staff') AND user_id = bulwark_user_id())
    WITH CHECK (bulwark_scope_in('customer', 'staff') AND user_id = bulwark_user_id());
CREATE POLICY idempotency_keys_own ON idempotency_keys AS RESTRICTIVE FOR ALL
    USING (bulwark_scope() <> 'customer' OR user_id = bulwark_user_id())
    WITH CHECK (bulwark_scope() <> 'customer' OR user_id = bulwark_user_id());
CREATE POLICY idempotency_keys_maintenance ON idempotency_keys FOR ALL TO CURRENT_USER
    USING (bulwark_scope_in('maintenance'))
    WITH CHECK (bulwark_scope_in('maintenance'));

-- user_mfa: a signed-in account (customer scope, staff accounts included:
-- the MFA routes are Customer rows) enrols, confirms and steps up with its
-- own; sign-in reads any account's and spends a code on it, before anyone
-- is signed in; staff read them for the MFA report.
CREATE POLICY user_mfa_read ON user_mfa FOR SELECT
    USING (bulwark_scope_in('customer', 'staff', 'auth'));
CREATE POLICY user_mfa_enrol ON user_mfa FOR INSERT
    WITH CHECK (bulwark_scope_in('customer'));
CREATE POLICY user_mfa_change ON user_mfa FOR UPDATE
    USING (bulwark_scope_in('customer', 'auth'))
    WITH CHECK (bulwark_scope_in('customer', 'auth'));
CREATE POLICY user_mfa_own ON user_mfa AS RESTRICTIVE FOR ALL
    USING (bulwark_scope() <> 'customer' OR user_id = bulwark_user_id())
    WITH CHECK (bulwark_scope() <> 'customer' OR user_id = bulwark_user_id());
CREATE POLICY user_mfa_maintenance ON user_mfa FOR ALL TO CURRENT_USER
    USING (bulwark_scope_in('maintenance'))
    WITH CHECK (bulwark_scope_in('maintenance'));

-- mfa_recovery_codes: replaced by their account's confirmation, spent by
-- sign-in or by their account's step-up. Staff never see them.
CREATE POLICY mfa_recovery_codes_read ON mfa_recovery_codes FOR SELECT
    USING (bulwark_scope_in('customer', 'auth'));
CREATE POLICY mfa_recovery_codes_create ON mfa_recovery_codes FOR INSERT
    WITH CHECK (bulwark_scope_in('customer'));
CREATE POLICY mfa_recovery_codes_spend ON mfa_recovery_codes FOR UPDATE
    USING (bulwark_scope_in('customer', 'auth'))
    WITH CHECK (bulwark_scope_in('customer', 'auth'));
CREATE POLICY mfa_recovery_codes_replace ON mfa_recovery_codes FOR DELETE
    USING (bulwark_scope_in('customer'));
CREATE POLICY mfa_recovery_codes_own ON mfa_recovery_codes AS RESTRICTIVE FOR ALL
    USING (bulwark_scope() <> 'customer' OR user_id = bulwark_user_id())
    WITH CHECK (bulwark_scope() <> 'customer' OR user_id = bulwark_user_id());
CREATE POLICY mfa_recovery_codes_maintenance ON mfa_recovery_codes FOR ALL TO CURRENT_USER
    USING (bulwark_scope_in('maintenance'))
    WITH CHECK (bulwark_scope_in('maintenance'));

-- +goose Down
DROP TABLE mfa_recovery_codes;
DROP TABLE user_mfa;
DROP TABLE idempotency_keys;
DROP TABLE refunds;
DROP TABLE coupon_redemptions;
DROP TABLE coupons;
REVOKE UPDATE (stock) ON products FROM bulwark_app;
ALTER TABLE products DROP COLUMN stock;
