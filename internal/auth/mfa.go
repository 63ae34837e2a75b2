package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/bulwark-dev/bulwark/internal/web"
)

// Problem types of the second factor (RFC 9457): each names the section of
// docs/12-business-flows.md that says what a client does next.
const (
	MFARequiredType    = "https://github.com/bulwark-dev/bulwark/blob/main/docs/12-business-flows.md#mfa-required"
	StepUpRequiredType = "https://github.com/bulwark-dev/bulwark/blob/main/docs/12-business-flows.md#step-up-required"
)

// Errors of the second factor. A wrong code, an expired one and a code
// already used get the same answer.
const (
	ErrMFARequired     = web.Unauthorized("This account signs in with a second factor: send mfa_code with the email and password.")
	ErrInvalidMFACode  = web.Unauthorized("The second-factor code is wrong, expired or already used.")
	ErrStepUpRequired  = web.Forbidden("This operation needs a second factor checked within the last 5 minutes: POST /api/v1/auth/mfa/step-up, then retry with the new access token.")
	ErrAlreadyEnrolled = web.Conflict("A second factor is already enrolled for this account.")
	ErrNoEnrolment     = web.Conflict("No enrolment is waiting for confirmation: POST /api/v1/auth/mfa/enroll first.")
	ErrNoSecondFactor  = web.Forbidden("This account has no second factor: enrol one with POST /api/v1/auth/mfa/enroll.")
)

func mfaRequired() error { return &web.Typed{Type: MFARequiredType, Err: ErrMFARequired} }

// Enrolment is a new TOTP secret, shown once, for the user's
// authenticator app; it counts only once a first code confirms it.
type Enrolment struct {
	Secret string
	URL    string // otpauth://totp/...
}

// Enroll starts an enrolment: the caller's password again (a stolen
// session alone must not be able to put its own second factor on an
// account and lock the owner out), then a new secret, which replaces an
// unconfirmed one. An account with a confirmed second factor keeps it.
func (s *Service) Enroll(ctx context.Context, user uuid.UUID, password string) (Enrolment, error) {
	u, err := s.Me(ctx, user)
	if err != nil {
		return Enrolment{}, err
	}
	if err := s.checkPassword(ctx, u.Email, password); err != nil {
		return Enrolment{}, err
	}
	secret, url, err := newTOTPSecret(u.Email)
	if err != nil {
		return Enrolment{}, err
	}
	started, err := s.store.startEnrolment(ctx, user, secret)
	if err != nil {
		return Enrolment{}, err
	}
	if !started {
		return Enrolment{}, ErrAlreadyEnrolled
	}
	return Enrolment{Secret: secret, URL: url}, nil
}

func (s *Service) checkPassword(ctx context.Context, email, password string) error {
	id, hash, err := s.store.credentialsByEmail(ctx, email)
	if err != nil {
		return fmt.Errorf("load credentials of %s: %w", id, err)
	}
	ok, err := s.hasher.Verify(ctx, password, hash)
	if err != nil {
		return fmt.Errorf("verify password of %s: %w", id, err)
	}
	if !ok {
		return ErrInvalidCredentials
	}
	return nil
}

// Confirm checks the first code of a waiting enrolment, confirms it and
// returns the recovery codes, shown this once; only their hashes are kept.
func (s *Service) Confirm(ctx context.Context, user uuid.UUID, code string) ([]string, error) {
	m, err := s.store.mfa(ctx, user)
	if errors.Is(err, errNoRow) {
		return nil, ErrNoEnrolment
	}
	if err != nil {
		return nil, err
	}
	if m.confirmed {
		return nil, ErrAlreadyEnrolled
	}
	step, ok := matchTOTP(m.secret, code, s.now())
	if !isTOTPCode(code) || !ok {
		return nil, ErrInvalidMFACode
	}
	codes := make([]string, recoveryCodes)
	hashes := make([][]byte, recoveryCodes)
	for i := range codes {
		codes[i] = newRecoveryCode()
		hashes[i], _ = recoveryHash(codes[i])
	}
	confirmed, err := s.store.confirmEnrolment(ctx, user, m.secret, step, hashes)
	if err != nil {
		return nil, err
	}
	if !confirmed {
		// Replaced by a new enrolment, or confirmed by a parallel request.
		return nil, ErrInvalidMFACode
	}
	return codes, nil
}

// StepUp checks a second factor inside a session and returns an access
// token that records it (MFAAt): the routes behind RequireRecentMFA take
// it for StepUpMaxAge.
//
// The new token belongs to the session of the token that asked (its sid)
// and keeps that token's version (sv), not the version read now: a
// step-up adds a factor to a session, it never extends one. Logout or a
// revoked family ends it with its session; a password change, "sign out
// everywhere" or a change of role, even one that lands while this request
// runs, ends it at once (every statement of every request checks both,
// postgres.Identity.InSession).
func (s *Service) StepUp(ctx context.Context, caller Access, code string) (Session, error) {
	user := caller.UserID
	m, err := s.store.mfa(ctx, user)
	if errors.Is(err, errNoRow) || err == nil && !m.confirmed {
		return Session{}, ErrNoSecondFactor
	}
	if err != nil {
		return Session{}, err
	}
	if err := s.secondFactor(ctx, user, m, code); err != nil {
		return Session{}, err
	}
	role, err := s.store.Role(ctx, user)
	if err != nil {
		return Session{}, err
	}
	access, err := s.tokens.Issue(Grant{UserID: user, Role: role, Session: caller.Session, Version: caller.Version, MFAAt: s.now()})
	if err != nil {
		return Session{}, err
	}
	return Session{AccessToken: access, ExpiresIn: s.tokens.TTL()}, nil
}

// loginSecondFactor is the second step of a login whose password was
// right: nothing for an account without a confirmed second factor (the
// zero time), otherwise the code, checked and spent, and when it was.
func (s *Service) loginSecondFactor(ctx context.Context, user uuid.UUID, code string) (time.Time, error) {
	m, err := s.store.mfa(ctx, user)
	if errors.Is(err, errNoRow) || err == nil && !m.confirmed {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	if code == "" {
		return time.Time{}, mfaRequired()
	}
	if err := s.secondFactor(ctx, user, m, code); err != nil {
		return time.Time{}, err
	}
	return s.now(), nil
}

// secondFactor checks code, a TOTP code or a recovery code, and spends it,
// so that no code is accepted twice: a TOTP code moves the account's last
// step forward with a conditional UPDATE (a replay, or an older code,
// matches no row), a recovery code is marked used the same way.
func (s *Service) secondFactor(ctx context.Context, user uuid.UUID, m mfaState, code string) error {
	if isTOTPCode(code) {
		step, ok := matchTOTP(m.secret, code, s.now())
		if !ok {
			return ErrInvalidMFACode
		}
		spent, err := s.store.advanceStep(ctx, user, step)
		if err != nil {
			return err
		}
		if !spent {
			return fmt.Errorf("TOTP step %d of %s replayed (last %d): %w", step, user, m.lastStep, ErrInvalidMFACode)
		}
		return nil
	}
	hash, ok := recoveryHash(code)
	if !ok {
		return ErrInvalidMFACode
	}
	spent, err := s.store.spendRecoveryCode(ctx, user, hash)
	if err != nil {
		return err
	}
	if !spent {
		return fmt.Errorf("recovery code of %s unknown or used: %w", user, ErrInvalidMFACode)
	}
	return nil
}

// StaffMFAReport lists every admin account and whether a second factor
// protects it (GET /api/v1/admin/reports/mfa).
func (s *Service) StaffMFAReport(ctx context.Context) ([]StaffMFA, error) {
	return s.store.StaffMFAReport(ctx)
}
