package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bulwark-dev/bulwark/internal/db"
	"github.com/bulwark-dev/bulwark/internal/postgres"
)

// mfaState is an account's second factor as stored.
type mfaState struct {
	secret    string
	confirmed bool
	lastStep  int64
}

func (s *Store) mfa(ctx context.Context, user uuid.UUID) (mfaState, error) {
	row, err := s.q.GetUserMFA(ctx, user)
	if errors.Is(err, pgx.ErrNoRows) {
		return mfaState{}, errNoRow
	}
	if err != nil {
		return mfaState{}, fmt.Errorf("load second factor of %s: %w", user, err)
	}
	return mfaState{secret: row.Secret, confirmed: row.ConfirmedAt != nil, lastStep: row.LastStep}, nil
}

// startEnrolment stores a new, unconfirmed secret; false when the account
// has a confirmed one already.
func (s *Store) startEnrolment(ctx context.Context, user uuid.UUID, secret string) (bool, error) {
	n, err := s.q.StartMFAEnrolment(ctx, db.StartMFAEnrolmentParams{UserID: user, Secret: secret})
	if err != nil {
		return false, fmt.Errorf("start enrolment of %s: %w", user, err)
	}
	return n == 1, nil
}

// confirmEnrolment confirms secret (and only that secret) at step, and
// replaces the recovery codes, in one transaction; false when the
// enrolment was confirmed or replaced meanwhile.
func (s *Store) confirmEnrolment(ctx context.Context, user uuid.UUID, secret string, step int64, recoveryHashes [][]byte) (bool, error) {
	confirmed := false
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		n, err := q.ConfirmMFAEnrolment(ctx, db.ConfirmMFAEnrolmentParams{UserID: user, Secret: secret, Step: step})
		if err != nil {
			return fmt.Errorf("confirm enrolment of %s: %w", user, err)
		}
		if n == 0 {
			return nil
		}
		if err := q.DeleteRecoveryCodes(ctx, user); err != nil {
			return fmt.Errorf("drop recovery codes of %s: %w", user, err)
		}
		if err := q.CreateRecoveryCodes(ctx, db.CreateRecoveryCodesParams{UserID: user, CodeHashes: recoveryHashes}); err != nil {
			return fmt.Errorf("store recovery codes of %s: %w", user, err)
		}
		confirmed = true
		return nil
	})
	return confirmed, err
}

// advanceStep spends the code of step: true only for the first request
// to present a step later than every step accepted before.
func (s *Store) advanceStep(ctx context.Context, user uuid.UUID, step int64) (bool, error) {
	n, err := s.q.AdvanceMFAStep(ctx, db.AdvanceMFAStepParams{UserID: user, Step: step})
	if err != nil {
		return false, fmt.Errorf("spend TOTP step of %s: %w", user, err)
	}
	return n == 1, nil
}

// spendRecoveryCode marks the code used: true only for its first use.
func (s *Store) spendRecoveryCode(ctx context.Context, user uuid.UUID, hash []byte) (bool, error) {
	n, err := s.q.SpendRecoveryCode(ctx, db.SpendRecoveryCodeParams{UserID: user, CodeHash: hash})
	if err != nil {
		return false, fmt.Errorf("spend recovery code of %s: %w", user, err)
	}
	return n == 1, nil
}

// StaffMFA is one admin account and whether a second factor protects it.
type StaffMFA struct {
	ID         uuid.UUID
	Email      string
	Name       string
	CreatedAt  time.Time
	MFAEnabled bool
}

// StaffMFAReport lists every admin account with its second-factor state.
func (s *Store) StaffMFAReport(ctx context.Context) ([]StaffMFA, error) {
	rows, err := s.q.AdminMFAReport(ctx)
	if err != nil {
		return nil, fmt.Errorf("mfa report: %w", err)
	}
	out := make([]StaffMFA, 0, len(rows))
	for _, r := range rows {
		out = append(out, StaffMFA{ID: r.ID, Email: r.Email, Name: r.Name, CreatedAt: r.CreatedAt, MFAEnabled: r.MfaEnabled})
	}
	return out, nil
}
