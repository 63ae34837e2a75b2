package auth

import (
	"errors"

	"github.com/golang-jwt/jwt/v5"

	"github.com/bulwark-dev/bulwark/internal/web/secevent"
)

// ErrRefreshTokenReused is a spent refresh token presented again: one of
// its holders stole it, so its family was revoked (rotateRefreshToken). The
// client sees ErrInvalidRefreshToken, like any other bad refresh token; the
// operator sees a RefreshReuse event.
var ErrRefreshTokenReused = errors.New("refresh token reused, family revoked") //nolint:gochecknoglobals // sentinel.

// errNoBearer is a request to a protected route without a bearer token.
var errNoBearer = errors.New("no bearer token") //nolint:gochecknoglobals // sentinel.

// rejection says, for the operator, why an access token was refused; the
// client always gets the one same 401 (ErrInvalidToken).
func rejection(err error) secevent.Reason {
	switch {
	case errors.Is(err, errNoBearer):
		return secevent.ReasonTokenMissing
	case errors.Is(err, jwt.ErrTokenExpired):
		return secevent.ReasonTokenExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return secevent.ReasonTokenNotYetValid
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		// A wrong key, or an algorithm other than HS256 ("none" included).
		return secevent.ReasonTokenSignature
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		// No kid, or a kid this service does not hold.
		return secevent.ReasonTokenUnknownKey
	case errors.Is(err, jwt.ErrTokenInvalidIssuer), errors.Is(err, jwt.ErrTokenInvalidAudience),
		errors.Is(err, jwt.ErrTokenRequiredClaimMissing), errors.Is(err, jwt.ErrTokenInvalidClaims):
		return secevent.ReasonTokenClaims
	}
	return secevent.ReasonTokenMalformed
}
