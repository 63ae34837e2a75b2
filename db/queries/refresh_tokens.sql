-- name: CreateRefreshToken :exec
INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at)
VALUES ($1, $2, $3, $4);

-- FOR UPDATE serialises two concurrent uses of the same token, so exactly
-- one of them can rotate it and the other is seen as reuse.
-- name: GetRefreshTokenForUpdate :one
SELECT token_hash, user_id, family_id, expires_at, used_at, revoked_at
FROM refresh_tokens
WHERE token_hash = $1
FOR UPDATE;

-- name: MarkRefreshTokenUsed :exec
UPDATE refresh_tokens
SET used_at = now()
WHERE token_hash = $1;

-- name: RevokeRefreshTokenFamily :exec
UPDATE refresh_tokens
SET revoked_at = now()
WHERE family_id = $1 AND revoked_at IS NULL;

-- name: RevokeRefreshTokensOfUser :exec
UPDATE refresh_tokens
SET revoked_at = now()
WHERE user_id = $1 AND revoked_at IS NULL;
