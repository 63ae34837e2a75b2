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

-- What an upload to the order must respect, read before the body streams
-- and again under the locks: the order's status (a cancelled or delivered
-- order takes no more files), its file count, and the owner's storage in
-- use across all their orders (the per-customer quota).
-- name: GetUploadStateForOwner :one
SELECT o.status,
       (SELECT count(*) FROM files f WHERE f.order_id = o.id AND f.owner_id = o.owner_id) AS order_files,
       (SELECT count(*) FROM files f WHERE f.owner_id = o.owner_id) AS owner_files,
       (SELECT coalesce(sum(f.size_bytes), 0)::bigint FROM files f WHERE f.owner_id = o.owner_id) AS owner_bytes
FROM orders o
WHERE o.id = $1 AND o.owner_id = $2;

-- Serialises one customer's uploads, so two racing uploads to different
-- orders cannot both pass the quota. NO KEY: the foreign keys of the
-- customer's own inserts (KEY SHARE) do not wait on it.
-- name: LockOwnerForOwnerUpload :one
SELECT id
FROM users
WHERE id = $1
FOR NO KEY UPDATE;

-- Which of keys are recorded: storage-gc's question for each batch of
-- stored objects (internal/files/gc.go). It runs as the owner, in the
-- maintenance scope, never in a request.
-- name: RecordedObjectKeys :many
SELECT object_key
FROM files
WHERE object_key = ANY(sqlc.arg(keys)::text[]);
