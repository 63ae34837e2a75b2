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
func (s *Store) rotateRefreshToken(ctx context.Context, old, next []byte, now, expires time.Time) (uuid.UUID, error) {
	var (
		userID uuid.UUID
		reused bool
	)
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
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
		userID = tok.UserID
		return nil
	})
	if err != nil {
		return uuid.Nil, err
	}
	if reused {
		return uuid.Nil, fmt.Errorf("%w: %w", ErrRefreshTokenReused, ErrInvalidRefreshToken)
	}
	return userID, nil
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
