-- name: CreateUser :one
INSERT INTO users (id, email, name, password_hash, role)
VALUES ($1, $2, $3, $4, $5)
RETURNING id, email, name, role, created_at, updated_at;

-- Login needs the hash; no other query selects it.
-- name: GetUserCredentialsByEmail :one
SELECT id, password_hash
FROM users
WHERE email = $1;

-- name: GetUserByID :one
SELECT id, email, name, role, created_at, updated_at
FROM users
WHERE id = $1;

-- name: GetUserRole :one
SELECT role
FROM users
WHERE id = $1;

-- name: UpdateUserName :one
UPDATE users
SET name = $2, updated_at = now()
WHERE id = $1
RETURNING id, email, name, role, created_at, updated_at;
