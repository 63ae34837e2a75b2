// Package secevent is the service's stream of security events: what an
// operator must see to notice an attack (docs/operations.md). Each event is
// one log line with "event":"security" and its kind, and one step of a
// counter in the metrics (internal/web/metrics).
//
// Code that detects an attack emits through the request's context:
//
//	secevent.Emit(ctx, secevent.SignatureInvalid, secevent.ReasonWebhook)
//
// The context was given an emitter and a view of the request (request id,
// client address, route template, the user once known) by
// web.SecurityEvents, so the detecting code says only what happened. No
// event carries a token, a password, a signature, a secret or a raw path:
// the fields are the request's identifiers and two words from closed sets
// (Kind, Reason), which is also what keeps the metrics' labels bounded.
package secevent

import (
	"context"
	"log/slog"
	"time"
)

// Kind is what happened, from a closed set.
type Kind string

// The kinds of security events. docs/operations.md says what each means and
// what to do about it.
const (
	// SignInFailed: a login with a wrong password or an unknown email, or a
	// wrong, expired or replayed second-factor code (at login or in a
	// session).
	SignInFailed Kind = "signin_failed"
	// Lockout: a login refused by the per-account limit or the backoff,
	// before the password was looked at.
	Lockout Kind = "lockout"
	// RefreshReuse: a spent refresh token came back, so one of its holders
	// stole it; its whole family was revoked.
	RefreshReuse Kind = "refresh_token_reuse"
	// TokenRejected: an access or refresh token was refused (Reason says why).
	TokenRejected Kind = "token_rejected"
	// StaffForbidden: a signed-in caller without the role asked for a
	// staff route (function-level authorization, docs/bfla.md), or staff
	// without a recent second factor asked for a step-up route
	// (docs/12-business-flows.md).
	StaffForbidden Kind = "staff_forbidden"
	// Enumeration: a caller's misses on {id} routes (ids that do not exist
	// or are not theirs) used up the misses limit (docs/01-bola.md).
	Enumeration Kind = "enumeration"
	// RateLimited: a request refused with 429; Reason is the policy.
	RateLimited Kind = "rate_limited"
	// SignatureInvalid: a signed download link or a webhook whose
	// signature did not verify.
	SignatureInvalid Kind = "signature_invalid"
	// OutboundRefused: a fetch the server was asked to make (import from a
	// URL) was refused: a private address, a forbidden scheme, a redirect.
	OutboundRefused Kind = "outbound_refused"
	// ConfigRefused: the service refused to start with its configuration.
	ConfigRefused Kind = "config_refused"
)

// Kinds lists every kind, for the metrics to start each counter at zero.
func Kinds() []Kind {
	return []Kind{SignInFailed, Lockout, RefreshReuse, TokenRejected, StaffForbidden,
		Enumeration, RateLimited, SignatureInvalid, OutboundRefused, ConfigRefused}
}

// Reason says why, from a closed set per kind (or, for RateLimited and
// Lockout, the name of a rate-limit policy from internal/app/limits.go).
// It never holds text from the request.
type Reason string

// Reasons.
const (
	ReasonInvalidCredentials Reason = "invalid_credentials" //nolint:gosec // G101: a reason's name, not a credential.
	// A second-factor code wrong, expired or replayed, at sign-in or step-up.
	ReasonInvalidSecondFactor Reason = "invalid_second_factor"

	ReasonTokenMissing     Reason = "missing"
	ReasonTokenMalformed   Reason = "malformed"
	ReasonTokenSignature   Reason = "bad_signature"
	ReasonTokenExpired     Reason = "expired"
	ReasonTokenNotYetValid Reason = "not_yet_valid"
	ReasonTokenClaims      Reason = "wrong_claims" // issuer, audience, subject
	ReasonTokenUnknownKey  Reason = "unknown_key"
	ReasonTokenDeletedUser Reason = "deleted_user"
	// A token of a session that ended (logout, a revoked family) or of an
	// older token version (password change, sign out everywhere, role change).
	ReasonTokenSessionEnded Reason = "session_ended"
	ReasonRefreshInvalid    Reason = "refresh_invalid"
	ReasonFamilyRevoked     Reason = "family_revoked"

	ReasonRole Reason = "role"
	// A staff route that needs a recent second factor, asked without one.
	ReasonStepUp Reason = "step_up"

	ReasonMisses Reason = "misses"

	ReasonDownloadLink Reason = "download_link"
	ReasonWebhook      Reason = "webhook"

	ReasonURL         Reason = "url"         // scheme, credentials or shape of the URL
	ReasonDestination Reason = "destination" // an address refused at dial time, or a redirect

	ReasonInvalidSetting  Reason = "invalid_setting"
	ReasonWorkshopSetting Reason = "workshop_setting"
	ReasonDatabaseRole    Reason = "database_role"
)

// Event is one security event. Every field is an identifier or a word from
// a closed set; none is ever filled from a header, a body or a query.
type Event struct {
	Time      time.Time
	Kind      Kind
	Reason    Reason
	RequestID string
	UserID    string // "" when the caller is not (yet) known
	ClientIP  string
	Method    string
	Route     string // the route template (/api/v1/orders/:id), never the path
}

// Origin is what a request knows about itself when an event is emitted.
type Origin struct {
	RequestID, UserID, ClientIP, Method, Route string
}

// A Sink receives every event, after it is logged: the metrics count them.
type Sink func(Event)

// Emitter writes events to the log and hands them to its sinks.
type Emitter struct {
	logger *slog.Logger
	sinks  []Sink
	now    func() time.Time
}

// NewEmitter returns an emitter that logs to logger and tells sinks.
func NewEmitter(logger *slog.Logger, sinks ...Sink) *Emitter {
	return &Emitter{logger: logger, sinks: sinks, now: time.Now}
}

// Emit records ev, setting its time. A nil emitter records nothing, so
// code built without one (unit tests, Routes) needs no special case.
func (e *Emitter) Emit(ctx context.Context, ev Event) {
	if e == nil {
		return
	}
	if ev.Time.IsZero() {
		ev.Time = e.now()
	}
	// Warn: each of these is something an operator should be able to find
	// with a level filter, yet none is an error of the service. The line's
	// own time is the event's.
	e.logger.LogAttrs(ctx, slog.LevelWarn, "security event",
		slog.String("event", "security"),
		slog.String("kind", string(ev.Kind)),
		slog.String("reason", string(ev.Reason)),
		slog.String("request_id", ev.RequestID),
		slog.String("user_id", ev.UserID),
		slog.String("client_ip", ev.ClientIP),
		slog.String("method", ev.Method),
		slog.String("route", ev.Route),
	)
	for _, s := range e.sinks {
		s(ev)
	}
}

type scopeKey struct{}

type scope struct {
	emitter *Emitter
	origin  func() Origin
}

// WithRequest returns ctx carrying e and origin, which Emit calls to learn
// who is asking at the moment of the event (the user is known only after
// authentication). origin must only be called while the request runs.
func WithRequest(ctx context.Context, e *Emitter, origin func() Origin) context.Context {
	return context.WithValue(ctx, scopeKey{}, scope{emitter: e, origin: origin})
}

// Emit records an event of kind for the request ctx belongs to. Outside a
// request (no WithRequest), it does nothing: events are about requests,
// except ConfigRefused, which is emitted with Emitter.Emit directly.
func Emit(ctx context.Context, kind Kind, reason Reason) {
	s, ok := ctx.Value(scopeKey{}).(scope)
	if !ok || s.emitter == nil {
		return
	}
	o := s.origin()
	s.emitter.Emit(ctx, Event{
		Kind: kind, Reason: reason,
		RequestID: o.RequestID, UserID: o.UserID, ClientIP: o.ClientIP, Method: o.Method, Route: o.Route,
	})
}
