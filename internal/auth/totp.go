package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP as authenticator apps implement it (RFC 6238): HMAC-SHA1, six
// digits, 30-second steps. A code is accepted for the step before and the
// step after the current one (a phone's clock drifts, a user types slowly),
// and never twice: the account's last accepted step must grow
// (AdvanceMFAStep, db/queries/mfa.sql).
const (
	totpPeriod = 30
	totpIssuer = "Bulwark"
)

func totpOpts() totp.ValidateOpts {
	return totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
}

// newTOTPSecret draws a 160-bit secret (RFC 4226's recommendation) and the
// otpauth:// URL an authenticator app reads it from.
func newTOTPSecret(account string) (secret, url string, err error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: account, SecretSize: 20, Rand: rand.Reader})
	if err != nil {
		return "", "", fmt.Errorf("generate TOTP secret: %w", err)
	}
	return key.Secret(), key.URL(), nil
}

// totpStep is the time step of t.
func totpStep(t time.Time) int64 { return t.Unix() / totpPeriod }

// totpCode is the code of secret for the time step, as an authenticator
// app shows it.
func totpCode(secret string, step int64) (string, error) {
	return totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totpOpts())
}

// matchTOTP returns the time step whose code is code, among the step of
// now and its two neighbours. Every candidate is computed and compared in
// constant time, so the answer's timing says nothing about which matched.
func matchTOTP(secret, code string, now time.Time) (int64, bool) {
	current := totpStep(now)
	var found int64
	matched := 0
	for _, step := range []int64{current - 1, current, current + 1} {
		want, err := totpCode(secret, step)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			found, matched = step, 1
		}
	}
	return found, matched == 1
}

// isTOTPCode tells a TOTP code (six digits) from a recovery code.
func isTOTPCode(s string) bool {
	if len(s) != 6 {
		return false
	}
	return strings.Trim(s, "0123456789") == ""
}

// Recovery codes: recoveryCodes of them at enrolment, each 16 characters
// of the Crockford base32 alphabet (80 random bits) shown as XXXX-XXXX-
// XXXX-XXXX. Only their SHA-256 is stored: with 80 random bits there is
// nothing to guess, so no stretching is needed, and a copy of the table
// signs no one in. Each is spent once (SpendRecoveryCode).
const (
	recoveryCodes     = 10
	recoveryAlphabet  = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	recoveryCodeChars = 16
)

func newRecoveryCode() string {
	raw := make([]byte, recoveryCodeChars)
	_, _ = rand.Read(raw) // crypto/rand.Read never fails on supported platforms.
	var b strings.Builder
	for i, r := range raw {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(recoveryAlphabet[int(r)%len(recoveryAlphabet)])
	}
	return b.String()
}

// recoveryHash is the stored form of a recovery code as typed: hyphens and
// spaces dropped, upper case. It returns false for anything that cannot
// be a recovery code.
func recoveryHash(typed string) ([]byte, bool) {
	s := strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(typed))
	if len(s) != recoveryCodeChars || strings.Trim(s, recoveryAlphabet) != "" {
		return nil, false
	}
	sum := sha256.Sum256([]byte(s))
	return sum[:], true
}
