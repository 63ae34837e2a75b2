-- Second factor: TOTP (RFC 6238) and recovery codes (internal/auth/mfa.go).

-- name: GetUserMFA :one
SELECT secret, confirmed_at, last_step
FROM user_mfa
WHERE user_id = $1;

-- A new secret replaces an unconfirmed one; a confirmed enrolment is never
-- replaced here (zero rows: already enrolled).
-- name: StartMFAEnrolment :execrows
INSERT INTO user_mfa (user_id, secret)
VALUES ($1, $2)
ON CONFLICT (user_id) DO UPDATE
SET secret = excluded.secret, last_step = 0, created_at = now()
WHERE user_mfa.confirmed_at IS NULL;

-- Confirms the secret the code was checked against, and only it: a
-- concurrent re-enrolment that replaced the secret makes this a no-op.
-- name: ConfirmMFAEnrolment :execrows
UPDATE user_mfa
SET confirmed_at = now(), last_step = sqlc.arg(step)
WHERE user_id = sqlc.arg(user_id) AND secret = sqlc.arg(secret) AND confirmed_at IS NULL AND last_step < sqlc.arg(step);

-- A code is spent by moving last_step forward past its time step. A code
-- already used, or one older than the last used, matches no row: replay
-- refused, even when two requests carry it at the same instant.
-- name: AdvanceMFAStep :execrows
UPDATE user_mfa
SET last_step = sqlc.arg(step)
WHERE user_id = sqlc.arg(user_id) AND confirmed_at IS NOT NULL AND last_step < sqlc.arg(step);

-- name: DeleteRecoveryCodes :exec
DELETE FROM mfa_recovery_codes
WHERE user_id = $1;

-- One statement for all the codes, not COPY: the statement carries the
-- caller's identity for row-level security (internal/postgres/scoped.go),
-- which a COPY cannot.
-- name: CreateRecoveryCodes :exec
INSERT INTO mfa_recovery_codes (user_id, code_hash)
SELECT sqlc.arg(user_id)::uuid, unnest(sqlc.arg(code_hashes)::bytea[]);

-- Single use: the first request to spend a code sets used_at; any other,
-- at once or later, matches no row.
-- name: SpendRecoveryCode :execrows
UPDATE mfa_recovery_codes
SET used_at = now()
WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL;

-- Every admin and whether a confirmed second factor protects the account
-- (GET /api/v1/admin/reports/mfa).
-- name: AdminMFAReport :many
SELECT u.id, u.email, u.name, u.created_at, (m.confirmed_at IS NOT NULL)::boolean AS mfa_enabled
FROM users u
LEFT JOIN user_mfa m ON m.user_id = u.id AND m.confirmed_at IS NOT NULL
WHERE u.role = 'admin'
ORDER BY u.email
LIMIT 1000;

-- name: SeedUserMFA :exec
INSERT INTO user_mfa (user_id, secret, confirmed_at)
VALUES ($1, $2, now())
ON CONFLICT (user_id) DO NOTHING;
