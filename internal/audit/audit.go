// Package audit is the trail of staff actions: who changed what, when, and
// the record before and after (docs/bfla.md). A staff change calls Record
// with the transaction that makes the change, so the row and the change
// commit or roll back together: there is never one without the other.
//
// The trail is append-only. This package has no update or delete, the
// service's database role holds only SELECT and INSERT on audit_log, and no
// row-level security policy admits an UPDATE or a DELETE for any scope
// (db/migrations/00006_audit.sql).
package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/bulwark-dev/bulwark/internal/db"
	"github.com/bulwark-dev/bulwark/internal/postgres"
)

// Entry is one staff action. Action is "<target>.<verb>" in lower case
// ("order.update", "coupon.create", "refund.issue"); Before and After are
// the fields the action changed, as they were and as they are, marshalled
// to JSON objects.
type Entry struct {
	Action     string
	TargetType string // "order", "coupon", …
	TargetID   string
	Before     any
	After      any
}

// Record is a row of the trail, as staff read it.
type Record struct {
	ID         int64
	ActorID    uuid.UUID
	Action     string
	TargetType string
	TargetID   string
	Before     json.RawMessage
	After      json.RawMessage
	CreatedAt  time.Time
}

// errNoStaff is a wiring bug: Record was called outside a staff request.
var errNoStaff = errors.New("audit: the context carries no staff identity") //nolint:gochecknoglobals // sentinel.

// Write appends e to the trail through tx, the transaction of the change it
// describes, as the staff member the request is authenticated as (ctx's
// identity: row-level security refuses a row in anyone else's name). It is
// the hook every staff action calls, once, before it commits:
//
//	err := postgres.WithTx(ctx, pool, func(tx pgx.Tx) error {
//		… make the change with db.New(postgres.Scoped(pool)).WithTx(tx) …
//		return audit.Write(ctx, tx, audit.Entry{Action: "coupon.create", …})
//	})
func Write(ctx context.Context, tx db.DBTX, e Entry) error {
	id, ok := postgres.IdentityFrom(ctx)
	if !ok || id.Scope != postgres.ScopeStaff {
		return errNoStaff
	}
	before, err := asObject(e.Before)
	if err != nil {
		return fmt.Errorf("audit %s before: %w", e.Action, err)
	}
	after, err := asObject(e.After)
	if err != nil {
		return fmt.Errorf("audit %s after: %w", e.Action, err)
	}
	err = db.New(tx).InsertAuditEntry(ctx, db.InsertAuditEntryParams{
		ActorID: id.UserID, Action: e.Action, TargetType: e.TargetType, TargetID: e.TargetID, Before: before, After: after,
	})
	if err != nil {
		return fmt.Errorf("audit %s of %s %s: %w", e.Action, e.TargetType, e.TargetID, err)
	}
	return nil
}

// asObject marshals v; nil is the empty object, so a creation's Before and
// a deletion's After read as {} rather than null.
func asObject(v any) ([]byte, error) {
	if v == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(v)
}
