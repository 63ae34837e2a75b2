-- +goose Up
CREATE TABLE users (
    id            uuid PRIMARY KEY,
    -- Emails are stored lower-cased (the CHECK makes the database hold the
    -- application to it), so "Alice@example.com" can never register beside
    -- "alice@example.com" and login lookups are an exact index match.
    email         text NOT NULL UNIQUE CHECK (email = lower(email) AND length(email) <= 254),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    password_hash text NOT NULL,
    role          text NOT NULL DEFAULT 'customer' CHECK (role IN ('customer', 'admin')),
    -- Reserved for "sign out everywhere" (a bump would invalidate every
    -- session of the user); no code path uses it yet. Like password_hash it
    -- must never appear in a response, which the exposure attacks check.
    token_version integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE refresh_tokens (
    -- Only the SHA-256 of the opaque token is stored: a copy of this table
    -- does not let anyone sign in.
    token_hash  bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id   uuid NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

CREATE TABLE products (
    id          uuid PRIMARY KEY,
    sku         text NOT NULL UNIQUE CHECK (length(sku) BETWEEN 1 AND 64),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    price_cents bigint NOT NULL CHECK (price_cents >= 0),
    currency    char(3) NOT NULL DEFAULT 'EUR',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    id                uuid PRIMARY KEY,
    owner_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status            text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'paid', 'shipped', 'delivered', 'cancelled')),
    total_cents       bigint NOT NULL CHECK (total_cents >= 0),
    currency          char(3) NOT NULL DEFAULT 'EUR',
    shipping_address  jsonb NOT NULL,
    note              text NOT NULL DEFAULT '' CHECK (length(note) <= 1000),
    -- Staff-only columns: they exist so that excessive data exposure can be
    -- demonstrated, and must never appear in a customer's response.
    internal_note     text NOT NULL DEFAULT '' CHECK (length(internal_note) <= 2000),
    payment_reference text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
-- Every ownership-scoped list starts with owner_id and ends with the sort key
-- and id, so a keyset page is one index range scan whatever the table's size.
CREATE INDEX orders_owner_created_idx ON orders (owner_id, created_at, id);
CREATE INDEX orders_owner_total_idx ON orders (owner_id, total_cents, id);
CREATE INDEX orders_created_idx ON orders (created_at, id);

CREATE TABLE order_items (
    order_id         uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line             integer NOT NULL CHECK (line BETWEEN 1 AND 50),
    product_id       uuid NOT NULL REFERENCES products (id),
    name             text NOT NULL,
    quantity         integer NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
    unit_price_cents bigint NOT NULL CHECK (unit_price_cents >= 0),
    PRIMARY KEY (order_id, line)
);

CREATE TABLE files (
    id            uuid PRIMARY KEY,
    order_id      uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    owner_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    object_key    text NOT NULL UNIQUE,
    original_name text NOT NULL CHECK (length(original_name) <= 255),
    content_type  text NOT NULL,
    size_bytes    bigint NOT NULL CHECK (size_bytes >= 0),
    sha256        bytea NOT NULL CHECK (length(sha256) = 32),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX files_owner_order_idx ON files (owner_id, order_id, created_at, id);

-- +goose Down
DROP TABLE files;
DROP TABLE order_items;
DROP TABLE orders;
DROP TABLE products;
DROP TABLE refresh_tokens;
DROP TABLE users;
