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

-- +goose Down
DROP TABLE payment_events;
