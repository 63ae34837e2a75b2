package auth

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/bulwark-dev/bulwark/internal/config"
)

// signingMethod is pinned: the parser accepts HS256 and nothing else, so
// "alg":"none" and algorithm-swap tokens are refused before any key is
// looked at. Why HS256 and not RS256/EdDSA is in docs/auth.md: this service
// both issues and verifies its tokens, so a public key buys nothing, and
// HMAC is the cheapest check on every request.
const signingMethod = "HS256"

// leeway tolerates small clock differences between instances, no more.
const leeway = 30 * time.Second

// ErrInvalidToken is the one answer to every bad access token: expired,
// forged, wrong audience, unknown key. Telling them apart would only help an
// attacker probe.
var ErrInvalidToken = errors.New("invalid access token")

// Claims are the access token's claims. Role is informational for clients;
// authorization for admin routes reads the role from the database.
type Claims struct {
	jwt.RegisteredClaims
	Role string `json:"role"`
	// AMR (RFC 8176) says how the holder proved who they are: ["pwd"] for
	// a password, ["pwd","otp","mfa"] with a second factor. MFAAt is when
	// the second factor was checked; routes that need a recent one read
	// it (RequireRecentMFA). A refreshed token carries neither: a refresh
	// token proves a session, not a factor.
	AMR   []string         `json:"amr,omitempty"`
	MFAAt *jwt.NumericDate `json:"mfa_at,omitempty"`
}

// Tokens issues and verifies access tokens.
type Tokens struct {
	keys     map[string][]byte
	current  config.SigningKey
	issuer   string
	audience string
	ttl      time.Duration
	parser   *jwt.Parser
	now      func() time.Time
}

// NewTokens builds the token service from the configured key ring. The first
// key signs; every key verifies, which is how keys rotate: add the new key
// first, keep the old one until the tokens it signed have expired.
func NewTokens(keys []config.SigningKey, issuer, audience string, ttl time.Duration) (*Tokens, error) {
	if len(keys) == 0 {
		return nil, errors.New("no token signing key configured")
	}
	ring := make(map[string][]byte, len(keys))
	for _, k := range keys {
		ring[k.ID] = k.Secret
	}
	return &Tokens{
		keys:     ring,
		current:  keys[0],
		issuer:   issuer,
		audience: audience,
		ttl:      ttl,
		now:      time.Now,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{signingMethod}),
			jwt.WithIssuer(issuer),
			jwt.WithAudience(audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(leeway),
			// One spelling per token: the unused low bits of each segment's
			// last character must be zero (found by FuzzTokenVerify).
			jwt.WithStrictDecoding(),
		),
	}, nil
}

// TTL is the lifetime of an access token.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// Issue signs an access token for the user.
func (t *Tokens) Issue(userID uuid.UUID, role string) (string, error) {
	return t.issue(userID, role, nil)
}

// IssueAfterMFA signs an access token that records a second factor checked
// at mfaAt.
func (t *Tokens) IssueAfterMFA(userID uuid.UUID, role string, mfaAt time.Time) (string, error) {
	return t.issue(userID, role, &mfaAt)
}

func (t *Tokens) issue(userID uuid.UUID, role string, mfaAt *time.Time) (string, error) {
	now := t.now()
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.issuer,
			Subject:   userID.String(),
			Audience:  jwt.ClaimStrings{t.audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
			ID:        uuid.NewString(),
		},
		Role: role,
		AMR:  []string{"pwd"},
	}
	if mfaAt != nil {
		claims.AMR = []string{"pwd", "otp", "mfa"}
		claims.MFAAt = jwt.NewNumericDate(*mfaAt)
	}
	token := jwt.NewWithClaims(jwt.GetSigningMethod(signingMethod), claims)
	token.Header["kid"] = t.current.ID
	signed, err := token.SignedString(t.current.Secret)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	return signed, nil
}

// Verify parses and checks an access token and returns its subject.
func (t *Tokens) Verify(raw string) (uuid.UUID, *Claims, error) {
	// The base64 decoder skips CR and LF, so they would be a second
	// spelling of a valid token: a token is base64url and two dots, nothing
	// else (found by FuzzTokenVerify).
	if strings.ContainsFunc(raw, func(r rune) bool { return !isTokenChar(r) }) {
		return uuid.Nil, nil, fmt.Errorf("%w: not a compact JWS", ErrInvalidToken)
	}
	var claims Claims
	_, err := t.parser.ParseWithClaims(raw, &claims, t.keyFor)
	if err != nil {
		return uuid.Nil, nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	id, err := uuid.Parse(claims.Subject)
	if err != nil {
		return uuid.Nil, nil, fmt.Errorf("%w: subject is not a user id", ErrInvalidToken)
	}
	return id, &claims, nil
}

func isTokenChar(r rune) bool {
	return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
}

// keyFor selects the verification key by the token's kid. The algorithm was
// already checked by WithValidMethods; a missing or unknown kid fails rather
// than falling back to some default key.
func (t *Tokens) keyFor(token *jwt.Token) (any, error) {
	kid, ok := token.Header["kid"].(string)
	if !ok {
		return nil, errors.New("token has no kid")
	}
	key, ok := t.keys[kid]
	if !ok {
		return nil, errors.New("token kid is unknown")
	}
	return key, nil
}
