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

-- Every staff request runs this once, before its handler (auth.RequireRole):
-- the role the staff check needs, the version an access token must carry,
-- and whether the token's session (its refresh family) is still live. One
-- primary-key read and one index probe, in the sign-in scope, which may
-- read accounts and refresh tokens. A customer's request makes the same
-- check inside its identity statement instead (bulwark_identify).
-- name: GetSessionState :one
SELECT u.role, u.token_version,
       EXISTS (SELECT 1 FROM refresh_tokens r
               WHERE r.family_id = sqlc.arg(family_id) AND r.user_id = u.id AND r.revoked_at IS NULL) AS live
FROM users u
WHERE u.id = sqlc.arg(user_id);

-- name: GetUserRoleAndVersion :one
SELECT role, token_version
FROM users
WHERE id = $1;

-- Sign out everywhere: every access token the user holds stops working.
-- name: BumpTokenVersion :exec
UPDATE users
SET token_version = token_version + 1, updated_at = now()
WHERE id = $1;

-- name: GetUserPasswordHash :one
SELECT password_hash
FROM users
WHERE id = $1;

-- The users_token_version trigger bumps token_version with it.
-- name: UpdateUserPassword :exec
UPDATE users
SET password_hash = $2, updated_at = now()
WHERE id = $1;
