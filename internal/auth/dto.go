package auth

import "time"

// Request DTOs: one per operation, holding exactly the fields a client may
// send. Anything else in the body is rejected by the strict binder, so
// {"role":"admin"} on register or PATCH /users/me is a 400, never a write
// (docs/02-mass-assignment.md).

type registerRequest struct {
	Email    string `json:"email" validate:"required,max=254,email"`
	Password string `json:"password" validate:"required,min=12,max=128"`
	Name     string `json:"name" validate:"required,max=100,safetext"`
}

type loginRequest struct {
	// safetext refuses control characters: a NUL byte would otherwise reach
	// PostgreSQL, which cannot store or compare it, and turn into a 500.
	Email string `json:"email" validate:"required,max=254,safetext"`
	// No minimum here: a length rule on login would only tell an attacker
	// the policy; the maximum bounds the hashing work.
	Password string `json:"password" validate:"required,max=128"`
	// MFACode is the second factor of an account that has one: a TOTP code
	// or a recovery code (mfa.go).
	MFACode string `json:"mfa_code" validate:"omitempty,max=32,safetext"`
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token" validate:"required,max=128"`
}

type updateMeRequest struct {
	Name string `json:"name" validate:"required,max=100,safetext"`
}

// Response DTOs: built field by field by the functions below, so a column
// added to users (password_hash, token_version, …) never reaches a client
// until someone adds it here on purpose (docs/03-data-exposure.md).

type userResponse struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

func toUserResponse(u User) userResponse {
	return userResponse{ID: u.ID.String(), Email: u.Email, Name: u.Name, Role: u.Role, CreatedAt: u.CreatedAt}
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
}

func toTokenResponse(s Session) tokenResponse {
	return tokenResponse{
		AccessToken:  s.AccessToken,
		TokenType:    "Bearer",
		ExpiresIn:    int(s.ExpiresIn / time.Second),
		RefreshToken: s.RefreshToken,
	}
}
