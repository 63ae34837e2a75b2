-- Files. The same naming rule as orders.sql: ...ForOwner queries carry the
-- owner in their WHERE clause (docs/01-bola.md). GetFileBySignedKey is the
-- one exception, and its name says why: it serves the signed download route,
-- where the verified signature over the key is the permission.

-- Locks the order row, so concurrent uploads to one order are counted one
-- after the other and the per-order cap cannot be overrun by a race.
-- name: LockOrderForOwner :one
SELECT id
FROM orders
WHERE id = $1 AND owner_id = $2
FOR UPDATE;

-- name: CountFilesForOwnerOrder :one
SELECT count(*)
FROM files
WHERE owner_id = $1 AND order_id = $2;

-- name: CreateFileForOwner :one
INSERT INTO files (id, order_id, owner_id, object_key, original_name, content_type, size_bytes, sha256)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING id, order_id, owner_id, object_key, original_name, content_type, size_bytes, sha256, created_at;

-- name: ListFilesForOwnerOrder :many
SELECT id, order_id, owner_id, object_key, original_name, content_type, size_bytes, sha256, created_at
FROM files
WHERE owner_id = $1 AND order_id = $2
ORDER BY created_at, id
LIMIT 100;

-- name: GetFileForOwner :one
SELECT id, order_id, owner_id, object_key, original_name, content_type, size_bytes, sha256, created_at
FROM files
WHERE id = $1 AND owner_id = $2;

-- name: DeleteFileForOwner :one
DELETE FROM files
WHERE id = $1 AND owner_id = $2
RETURNING object_key;

-- name: GetFileBySignedKey :one
SELECT id, order_id, owner_id, object_key, original_name, content_type, size_bytes, sha256, created_at
FROM files
WHERE object_key = $1;
