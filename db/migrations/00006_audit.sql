-- +goose Up
-- The audit trail of staff actions (docs/bfla.md): who did what to which
-- record, when, and the record before and after, as JSON. A row is written
-- in the same transaction as the change it describes (internal/audit), so
-- there is never a change without its row nor a row without its change.
--
-- Append-only, by three walls: the service role is granted SELECT and
-- INSERT and nothing else, so an UPDATE or DELETE it sends fails with
-- "permission denied" before any policy is read; no policy admits UPDATE
-- or DELETE for any scope, the owner's maintenance scope included; and no
-- route or query of the service changes a row.
CREATE TABLE audit_log (
    -- An identity column, not a serial: inserting needs no privilege on
    -- the sequence, and the ids give a total order for the staff's pages.
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- No foreign key: the trail outlives the accounts and records it names.
    actor_id    uuid NOT NULL,
    action      text NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$' AND length(action) <= 64),
    target_type text NOT NULL CHECK (length(target_type) BETWEEN 1 AND 32),
    target_id   text NOT NULL CHECK (length(target_id) BETWEEN 1 AND 128),
    before      jsonb NOT NULL,
    after       jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
-- The staff route filters by actor or action and pages newest first.
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);

GRANT SELECT, INSERT ON audit_log TO bulwark_app;
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
-- Staff read the trail and append to it, as themselves: a row names the
-- caller the request was authenticated as, never someone else.
CREATE POLICY audit_log_read ON audit_log FOR SELECT
    USING (bulwark_scope_in('staff'));
CREATE POLICY audit_log_append ON audit_log FOR INSERT
    WITH CHECK (bulwark_scope_in('staff') AND actor_id = bulwark_user_id());
-- The owner reads it (maintenance); even it has no policy to change a row.
CREATE POLICY audit_log_maintenance ON audit_log FOR SELECT TO CURRENT_USER
    USING (bulwark_scope_in('maintenance'));

-- +goose Down
DROP TABLE audit_log;
