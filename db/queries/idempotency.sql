-- Idempotency keys (internal/idempotency, docs/12-business-flows.md). The
-- whole exchange runs in one transaction with the request's effect: the
-- key's row is inserted just before COMMIT, so it exists exactly when the
-- effect does.

-- A second request with a key still in flight gets false here at once and
-- is answered 409, instead of queueing behind the first. The lock ends with
-- the transaction. Two keys whose hashes collide only make each other wait
-- (a 409 and a retry), never share an answer: the row below is looked up
-- by the key itself.
-- name: TryLockIdempotencyKey :one
SELECT pg_try_advisory_xact_lock(hashtextextended(sqlc.arg(user_id)::uuid::text || ':' || sqlc.arg(key)::text, 0)) AS locked;

-- name: GetIdempotencyKey :one
SELECT request_hash, status_code, content_type, body
FROM idempotency_keys
WHERE user_id = $1 AND key = $2 AND expires_at > now();

-- Expired keys of the caller are dropped when the caller uses a key, so
-- the table holds at most what each caller sent within the expiry.
-- name: DeleteExpiredIdempotencyKeys :exec
DELETE FROM idempotency_keys
WHERE user_id = $1 AND expires_at <= now();

-- The primary key (user_id, key) is the guarantee: were the lock above
-- removed, a second effect for one key would fail here and roll back.
-- name: SaveIdempotencyKey :exec
INSERT INTO idempotency_keys (user_id, key, request_hash, status_code, content_type, body, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => sqlc.arg(ttl_seconds)::double precision));
