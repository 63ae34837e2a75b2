// Package auth is identity: accounts, passwords, access and refresh tokens,
// the middleware that authenticates requests, and the role check for staff
// routes (docs/auth.md, OWASP API2 and API5).
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/web"
)

// Roles. Every account is a customer unless the database says otherwise;
// no request can set a role.
const (
	RoleCustomer = "customer"
	RoleAdmin    = "admin"
)

// Errors the handlers return. Their text is what the client sees.
const (
	// ErrInvalidCredentials is the only login failure: an unknown email and a
	// wrong password must be indistinguishable.
	ErrInvalidCredentials  = web.Unauthorized("The email or password is incorrect.")
	ErrEmailTaken          = web.Conflict("An account with this email already exists.")
	ErrInvalidRefreshToken = web.Unauthorized("The refresh token is invalid, expired or revoked.")
	ErrUnauthenticated     = web.Unauthorized("A valid access token is required.")
	ErrForbidden           = web.Forbidden("This operation is not allowed for your account.")
)

// User is an account as the service sees it. The password hash is not a
// field: it is read only by login, straight from the store.
type User struct {
	ID        uuid.UUID
	Email     string
	Name      string
	Role      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Session is what a successful login or refresh hands out.
type Session struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    time.Duration
}

// Service holds the account rules.
type Service struct {
	store      *Store
	hasher     *Hasher
	tokens     *Tokens
	refreshTTL time.Duration
	now        func() time.Time
}

func NewService(store *Store, hasher *Hasher, tokens *Tokens, refreshTTL time.Duration) *Service {
	return &Service{store: store, hasher: hasher, tokens: tokens, refreshTTL: refreshTTL, now: time.Now}
}

// NormalizeEmail is the one spelling of an email the database stores and
// looks up, so case variants are one account.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// Register creates a customer account. The role is fixed here, whatever
// the request contained.
func (s *Service) Register(ctx context.Context, email, password, name string) (User, error) {
	ctx = signInScope(ctx)
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return User{}, fmt.Errorf("hash password: %w", err)
	}
	return s.store.createUser(ctx, uuid.New(), NormalizeEmail(email), name, hash, RoleCustomer)
}

// Login checks the credentials and opens a session. Whether the email is
// unknown or the password wrong, it does the same work (one argon2id
// verification) and returns the same error. An account with a second
// factor needs code too (mfa.go); the session's access token then
// records it.
func (s *Service) Login(ctx context.Context, email, password, code string) (Session, error) {
	ctx = signInScope(ctx)
	id, hash, err := s.store.credentialsByEmail(ctx, NormalizeEmail(email))
	if errors.Is(err, errNoRow) {
		if err := s.hasher.VerifyDummy(ctx, password); err != nil {
			return Session{}, fmt.Errorf("verify dummy: %w", err)
		}
		return Session{}, ErrInvalidCredentials
	}
	if err != nil {
		return Session{}, err
	}
	ok, err := s.hasher.Verify(ctx, password, hash)
	if err != nil {
		return Session{}, fmt.Errorf("verify password of %s: %w", id, err)
	}
	if !ok {
		return Session{}, ErrInvalidCredentials
	}
	mfaAt, err := s.loginSecondFactor(ctx, id, code)
	if err != nil {
		return Session{}, err
	}
	return s.openSession(ctx, id, uuid.New(), mfaAt)
}

// Refresh rotates a refresh token: the presented one is spent, a new one in
// the same family is returned with a new access token.
func (s *Service) Refresh(ctx context.Context, refreshToken string) (Session, error) {
	ctx = signInScope(ctx)
	next, nextHash := newRefreshToken()
	now := s.now()
	userID, family, err := s.store.rotateRefreshToken(ctx, hashRefreshToken(refreshToken), nextHash, now, now.Add(s.refreshTTL))
	if err != nil {
		return Session{}, err
	}
	return s.sessionFor(ctx, userID, family, next, time.Time{})
}

// Logout revokes the refresh token's whole family. The access tokens
// issued in that session name the family (Claims.Session), so they are
// refused from the next request on (Authenticate).
func (s *Service) Logout(ctx context.Context, refreshToken string) error {
	ctx = signInScope(ctx)
	return s.store.revokeFamilyOf(ctx, hashRefreshToken(refreshToken))
}

// signInScope is the database scope of the flows that run before anyone
// is signed in (register, login, refresh, logout): row-level security lets
// it read accounts and refresh tokens and create customers, and shows it
// no order or file (db/migrations/00003_row_level_security.sql).
func signInScope(ctx context.Context) context.Context {
	return postgres.WithIdentity(ctx, postgres.SignIn())
}

// Me returns the caller's account.
func (s *Service) Me(ctx context.Context, id uuid.UUID) (User, error) {
	u, err := s.store.userByID(ctx, id)
	if errors.Is(err, errNoRow) {
		// A valid token for a deleted account.
		return User{}, ErrUnauthenticated
	}
	return u, err
}

// Rename changes the caller's display name, the only field a user may edit.
func (s *Service) Rename(ctx context.Context, id uuid.UUID, name string) (User, error) {
	u, err := s.store.updateName(ctx, id, name)
	if errors.Is(err, errNoRow) {
		return User{}, ErrUnauthenticated
	}
	return u, err
}

func (s *Service) openSession(ctx context.Context, userID, family uuid.UUID, mfaAt time.Time) (Session, error) {
	token, hash := newRefreshToken()
	if err := s.store.saveRefreshToken(ctx, hash, userID, family, s.now().Add(s.refreshTTL)); err != nil {
		return Session{}, err
	}
	return s.sessionFor(ctx, userID, family, token, mfaAt)
}

// sessionFor issues the access token of the session family; mfaAt is when
// a second factor was checked for it, zero when none was (a password only,
// or a refresh).
func (s *Service) sessionFor(ctx context.Context, userID, family uuid.UUID, refreshToken string, mfaAt time.Time) (Session, error) {
	role, version, err := s.store.roleAndVersion(ctx, userID)
	if err != nil {
		return Session{}, err
	}
	access, err := s.tokens.Issue(Grant{UserID: userID, Role: role, Session: family, Version: version, MFAAt: mfaAt})
	if err != nil {
		return Session{}, err
	}
	return Session{AccessToken: access, RefreshToken: refreshToken, ExpiresIn: s.tokens.TTL()}, nil
}

// newRefreshToken returns an opaque token and the hash that is stored. The
// token has 256 bits of randomness, so a plain SHA-256 (no salt, no
// stretching) is enough: there is nothing to guess.
func newRefreshToken() (string, []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms.
	token := "rt_" + base64.RawURLEncoding.EncodeToString(b)
	return token, hashRefreshToken(token)
}

func hashRefreshToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}
