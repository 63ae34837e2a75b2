-- +goose Up
-- Every payment provider event the service has acted on, each once: the
-- primary key on the provider's event id is the dedupe, so a replayed or
-- redelivered event finds its id taken and changes nothing
-- (docs/11-third-party-data.md). A row is written in the same transaction
-- as the order's move to paid, so there is never one without the other.
-- No foreign key to orders: this is the record of what the provider said,
-- and it outlives the order (and a workshop reset of the orders table).
CREATE TABLE payment_events (
    event_id     text PRIMARY KEY CHECK (length(event_id) BETWEEN 1 AND 128),
    order_id     uuid NOT NULL,
    payment_id   text NOT NULL CHECK (length(payment_id) BETWEEN 1 AND 128),
    amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
    currency     char(3) NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_events_order_idx ON payment_events (order_id);

-- Row-level security (00003_row_level_security.sql) for the provider's
-- scope, which the webhook takes only after the signature is verified
-- (internal/payments/handler.go): it records events and reads and pays
-- pending orders. Nothing else may touch the events; a customer's scope
-- cannot mark an order paid, whatever its SQL says.
GRANT SELECT, INSERT ON payment_events TO bulwark_app;
ALTER TABLE payment_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE payment_events FORCE ROW LEVEL SECURITY;
CREATE POLICY payment_events_provider ON payment_events FOR ALL
    USING (bulwark_scope_in('payment'))
    WITH CHECK (bulwark_scope_in('payment'));
CREATE POLICY payment_events_maintenance ON payment_events FOR ALL TO CURRENT_USER
    USING (bulwark_scope_in('maintenance'))
    WITH CHECK (bulwark_scope_in('maintenance'));
CREATE POLICY orders_read_by_provider ON orders FOR SELECT
    USING (bulwark_scope_in('payment'));
CREATE POLICY orders_paid_by_provider ON orders FOR UPDATE
    USING (bulwark_scope_in('payment') AND status = 'pending')
    WITH CHECK (bulwark_scope_in('payment') AND status = 'paid');

-- +goose Down
DROP POLICY orders_paid_by_provider ON orders;
DROP POLICY orders_read_by_provider ON orders;
DROP TABLE payment_events;
