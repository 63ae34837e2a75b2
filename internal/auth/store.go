package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bulwark-dev/bulwark/internal/db"
	"github.com/bulwark-dev/bulwark/internal/postgres"
)

// pgUniqueViolation is SQLSTATE 23505.
const pgUniqueViolation = "23505"

// errNoRow is the store's "not found"; the service decides what it means to
// the caller (a login failure, an invalid token, …).
var errNoRow = errors.New("no such row")

// Store is the only code in this package that touches SQL. It maps pgx
// errors to domain errors, so no driver text travels further up.
type Store struct {
	pool *pgxpool.Pool
	q    *db.Queries
}

// NewStore wraps the pool. Its queries run as the request's identity,
// under row-level security (postgres.Scoped, docs/01-bola.md).
func NewStore(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, q: db.New(postgres.Scoped(pool))}
}

func (s *Store) createUser(ctx context.Context, id uuid.UUID, email, name, hash, role string) (User, error) {
	row, err := s.q.CreateUser(ctx, db.CreateUserParams{ID: id, Email: email, Name: name, PasswordHash: hash, Role: role})
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == pgUniqueViolation {
			return User{}, ErrEmailTaken
		}
		return User{}, fmt.Errorf("insert user: %w", err)
	}
	return User(row), nil
}

func (s *Store) credentialsByEmail(ctx context.Context, email string) (uuid.UUID, string, error) {
	row, err := s.q.GetUserCredentialsByEmail(ctx, email)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, "", errNoRow
	}
	if err != nil {
		return uuid.Nil, "", fmt.Errorf("load credentials: %w", err)
	}
	return row.ID, row.PasswordHash, nil
}

func (s *Store) userByID(ctx context.Context, id uuid.UUID) (User, error) {
	row, err := s.q.GetUserByID(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, errNoRow
	}
	if err != nil {
		return User{}, fmt.Errorf("load user %s: %w", id, err)
	}
	return User(row), nil
}

// Role reads the user's current role. Authorization uses this, not the role
// claim in the token, so demoting an admin takes effect at once.
func (s *Store) Role(ctx context.Context, id uuid.UUID) (string, error) {
	role, err := s.q.GetUserRole(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", errNoRow
	}
	if err != nil {
		return "", fmt.Errorf("load role of %s: %w", id, err)
	}
	return role, nil
}

func (s *Store) updateName(ctx context.Context, id uuid.UUID, name string) (User, error) {
	row, err := s.q.UpdateUserName(ctx, db.UpdateUserNameParams{ID: id, Name: name})
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, errNoRow
	}
	if err != nil {
		return User{}, fmt.Errorf("update name of %s: %w", id, err)
	}
	return User(row), nil
}

func (s *Store) saveRefreshToken(ctx context.Context, hash []byte, userID, family uuid.UUID, expires time.Time) error {
	err := s.q.CreateRefreshToken(ctx, db.CreateRefreshTokenParams{TokenHash: hash, UserID: userID, FamilyID: family, ExpiresAt: expires})
	if err != nil {
		return fmt.Errorf("save refresh token: %w", err)
	}
	return nil
}

// rotateRefreshToken spends the token with hash old and stores its
// successor in the same family, atomically. A token that was already spent
// is a sign that it was stolen (either the thief or the owner used it
// first), so the whole family is revoked and committed before the refusal
// is returned.
func (s *Store) rotateRefreshToken(ctx context.Context, old, next []byte, now, expires time.Time) (user, family uuid.UUID, err error) {
	var reused bool
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		tok, err := q.GetRefreshTokenForUpdate(ctx, old)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrInvalidRefreshToken
		}
		if err != nil {
			return fmt.Errorf("load refresh token: %w", err)
		}
		switch {
		case tok.RevokedAt != nil:
			return ErrInvalidRefreshToken
		case tok.UsedAt != nil:
			reused = true
			// Commit the revocation: returning an error here would roll it back.
			if err := q.RevokeRefreshTokenFamily(ctx, tok.FamilyID); err != nil {
				return fmt.Errorf("revoke family: %w", err)
			}
			return nil
		case !now.Before(tok.ExpiresAt):
			return ErrInvalidRefreshToken
		}
		if err := q.MarkRefreshTokenUsed(ctx, old); err != nil {
			return fmt.Errorf("spend refresh token: %w", err)
		}
		if err := q.CreateRefreshToken(ctx, db.CreateRefreshTokenParams{TokenHash: next, UserID: tok.UserID, FamilyID: tok.FamilyID, ExpiresAt: expires}); err != nil {
			return fmt.Errorf("save rotated refresh token: %w", err)
		}
		user, family = tok.UserID, tok.FamilyID
		return nil
	})
	if err != nil {
		return uuid.Nil, uuid.Nil, err
	}
	if reused {
		return uuid.Nil, uuid.Nil, fmt.Errorf("%w: %w", ErrRefreshTokenReused, ErrInvalidRefreshToken)
	}
	return user, family, nil
}

func (s *Store) revokeFamilyOf(ctx context.Context, hash []byte) error {
	return postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		tok, err := q.GetRefreshTokenForUpdate(ctx, hash)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // Logging out twice, or with a bogus token, changes nothing.
		}
		if err != nil {
			return fmt.Errorf("load refresh token: %w", err)
		}
		if err := q.RevokeRefreshTokenFamily(ctx, tok.FamilyID); err != nil {
			return fmt.Errorf("revoke family: %w", err)
		}
		return nil
	})
}

// SessionState is what RequireRole checks a staff request's access token
// against.
type SessionState struct {
	Role    string
	Version int32
	Live    bool // the token's refresh family is not revoked
}

// Session reads the state of user's session family: one primary-key read
// and one index probe. It runs in the sign-in scope, the one scope that
// may read refresh tokens; errNoRow means the user no longer exists.
func (s *Store) Session(ctx context.Context, user, family uuid.UUID) (SessionState, error) {
	row, err := s.q.GetSessionState(signInScope(ctx), db.GetSessionStateParams{UserID: user, FamilyID: family})
	if errors.Is(err, pgx.ErrNoRows) {
		return SessionState{}, errNoRow
	}
	if err != nil {
		return SessionState{}, fmt.Errorf("load session of %s: %w", user, err)
	}
	return SessionState{Role: row.Role, Version: row.TokenVersion, Live: row.Live}, nil
}

func (s *Store) roleAndVersion(ctx context.Context, id uuid.UUID) (string, int32, error) {
	row, err := s.q.GetUserRoleAndVersion(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", 0, errNoRow
	}
	if err != nil {
		return "", 0, fmt.Errorf("load role of %s: %w", id, err)
	}
	return row.Role, row.TokenVersion, nil
}

func (s *Store) passwordHash(ctx context.Context, id uuid.UUID) (string, error) {
	hash, err := s.q.GetUserPasswordHash(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", errNoRow
	}
	if err != nil {
		return "", fmt.Errorf("load password of %s: %w", id, err)
	}
	return hash, nil
}

// endSessions revokes every refresh family of the user and, with change,
// changes the user's row in the same transaction: the password (whose
// trigger bumps the token version) or the version itself. ctx is the
// user's own scope, which may update their row; the refresh tokens are
// revoked in the sign-in scope, the one that may touch them.
func (s *Store) endSessions(ctx context.Context, id uuid.UUID, change func(context.Context, *db.Queries) error) error {
	return postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		if err := change(ctx, q); err != nil {
			return err
		}
		if err := q.RevokeRefreshTokensOfUser(signInScope(ctx), id); err != nil {
			return fmt.Errorf("revoke sessions of %s: %w", id, err)
		}
		return nil
	})
}
