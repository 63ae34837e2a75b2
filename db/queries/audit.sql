-- The audit trail is append-only: these are its only statements, and the
-- service's role holds no UPDATE or DELETE on it (00006_audit.sql).

-- name: InsertAuditEntry :exec
INSERT INTO audit_log (actor_id, action, target_type, target_id, before, after)
VALUES ($1, $2, $3, $4, $5, $6);

-- Newest first, keyset on id; actor and action filter when given.
-- name: ListAuditEntries :many
SELECT id, actor_id, action, target_type, target_id, before, after, created_at
FROM audit_log
WHERE (sqlc.narg(actor_id)::uuid IS NULL OR actor_id = sqlc.narg(actor_id)::uuid)
  AND (sqlc.narg(action)::text IS NULL OR action = sqlc.narg(action)::text)
  AND (sqlc.narg(before_id)::bigint IS NULL OR id < sqlc.narg(before_id)::bigint)
ORDER BY id DESC
LIMIT sqlc.arg(row_limit);
