package postgres

import (
	"context"
	"sync/atomic"

	"github.com/google/uuid"
)

// Scope is what a request's statements may touch. The row-level security
// policies admit rows by it (db/migrations/00003_row_level_security.sql),
// so each request names its scope explicitly, at the point where the code
// has earned it.
type Scope string

// The scopes a request can carry. A request with none sees no rows of any
// table under row-level security.
const (
	// ScopeCustomer is a signed-in user: their own rows only. The
	// authenticate middleware sets it (auth.Authenticate).
	ScopeCustomer Scope = "customer"
	// ScopeStaff reads and updates every order. auth.RequireRole sets it,
	// after it has read the caller's role from the database.
	ScopeStaff Scope = "staff"
	// ScopeAuth is sign-in, registration, refresh and logout, which run
	// before an identity exists: accounts and refresh tokens only, never an
	// order or a file (auth.Service).
	ScopeAuth Scope = "auth"
	// ScopeDownload reads file rows for a signed download link, whose
	// verified signature is the permission (docs/06-file-access.md).
	ScopeDownload Scope = "download"
	// ScopePayment is the payment provider's webhook, after its signature
	// was verified: it records the event and moves a pending order to paid,
	// nothing else (docs/11-third-party-data.md).
	ScopePayment Scope = "payment"
)

// Identity is who a request's statements run as.
type Identity struct {
	UserID uuid.UUID // uuid.Nil for the scopes that run before sign-in
	Scope  Scope

	// session is the signed-in session the caller's access token names,
	// nil for the scopes that have none. With it, the identity statement
	// checks the session before it sets the identity (InSession).
	session *sessionCheck
}

// sessionCheck is one request's session: what its access token claims,
// and whether a statement of this request has found it live yet.
type sessionCheck struct {
	family  uuid.UUID
	version int32
	live    atomic.Bool // set after the first identity statement that passed
}

// InSession returns id bound to the session an access token names: its
// refresh family and the user's token version when it was signed. Every
// statement then runs only if that session is still live, checked in the
// statement that sets the identity (bulwark_identify,
// db/migrations/00008_session_in_identity.sql), so logout, a revoked
// family, a password change or a change of role refuse the very next
// statement with ErrSessionEnded, at no extra round trip. Call it once per
// request: the result carries the request's own check.
func (id Identity) InSession(family uuid.UUID, version int32) Identity {
	id.session = &sessionCheck{family: family, version: version}
	return id
}

// Session returns the session id is bound to, if any (InSession).
func (id Identity) Session() (family uuid.UUID, version int32, ok bool) {
	if id.session == nil {
		return uuid.Nil, 0, false
	}
	return id.session.family, id.session.version, true
}

// InScope returns id with another scope, in the same session: the staff
// scope once the role is checked (auth.RequireRole).
func (id Identity) InScope(scope Scope) Identity {
	id.Scope = scope
	return id
}

// Customer is a signed-in user acting on their own rows.
func Customer(id uuid.UUID) Identity { return Identity{UserID: id, Scope: ScopeCustomer} }

// Staff is an admin whose role has just been checked.
func Staff(id uuid.UUID) Identity { return Identity{UserID: id, Scope: ScopeStaff} }

// SignIn is the scope of the authentication flows.
func SignIn() Identity { return Identity{Scope: ScopeAuth} }

// SignedLink is the scope of a signed download link.
func SignedLink() Identity { return Identity{Scope: ScopeDownload} }

type identityKey struct{}

// PaymentProvider is the scope of a verified payment webhook.
func PaymentProvider() Identity { return Identity{Scope: ScopePayment} }

// WithIdentity returns ctx carrying id: every statement run through Scoped
// or WithTx with that context runs as id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFrom returns the identity ctx carries, if any.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// settings are the two values set_config receives. A nil user id is sent
// as the empty string, which the policies read as NULL: it matches no
// owner.
func (id Identity) settings() (userID, scope string) {
	if id.UserID != uuid.Nil {
		userID = id.UserID.String()
	}
	return userID, string(id.Scope)
}
