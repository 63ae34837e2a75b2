package files

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bulwark-dev/bulwark/internal/db"
	"github.com/bulwark-dev/bulwark/internal/web"
)

// What an upload (or an import) must respect besides its own size: the
// order must still take files, the order holds at most FilesPerOrder, and
// the customer's files across all their orders stay within the storage
// quota. Checked before the body streams, to refuse early, and again under
// the locks when the file is recorded, which is the check that counts.

// Quota is the storage one customer may use, over all their orders.
type Quota struct {
	Bytes int64
	Files int
}

// Errors of the gate; each names what refused the upload.
const (
	ErrOrderCancelled = web.Conflict("This order is cancelled: files can no longer be attached to it.")
	ErrOrderDelivered = web.Conflict("This order is delivered: files can no longer be attached to it.")
)

// quotaFiles is a 409: the customer must delete a file first.
func quotaFiles(limit int) error {
	return web.Conflict(fmt.Sprintf("Your storage quota of %d files is used up: delete a file to attach another.", limit))
}

// quotaBytes is a 413, the status of a body that is too large for where
// it is going, naming the quota rather than the upload limit.
func quotaBytes(limit, used int64) error {
	return web.TooLarge(fmt.Sprintf("This file would exceed your storage quota of %d bytes (%d in use): delete files to make room.", limit, used))
}

// uploadState is GetUploadStateForOwner's row.
type uploadState = db.GetUploadStateForOwnerRow

func (s *Store) uploadState(ctx context.Context, q *db.Queries, owner, orderID uuid.UUID) (uploadState, error) {
	st, err := q.GetUploadStateForOwner(ctx, db.GetUploadStateForOwnerParams{ID: orderID, OwnerID: owner})
	if errors.Is(err, pgx.ErrNoRows) {
		return uploadState{}, fmt.Errorf("order %s gone: %w", orderID, errOrderNotFound)
	}
	if err != nil {
		return uploadState{}, fmt.Errorf("load upload state of %s: %w", orderID, err)
	}
	return st, nil
}

// admit refuses an upload of size more bytes (0 before the body is read)
// that st does not allow under limits, naming the rule.
func admit(st uploadState, limits Limits, size int64) error {
	switch {
	case st.Status == "cancelled":
		return ErrOrderCancelled
	case st.Status == "delivered":
		return ErrOrderDelivered
	case st.OrderFiles >= int64(limits.FilesPerOrder):
		return ErrOrderFull
	case st.OwnerFiles >= int64(limits.Quota.Files):
		return quotaFiles(limits.Quota.Files)
	case st.OwnerBytes+max(size, 1) > limits.Quota.Bytes:
		return quotaBytes(limits.Quota.Bytes, st.OwnerBytes)
	}
	return nil
}

// Admit refuses early an upload to orderID that the order's state, the
// per-order cap or owner's quota would refuse when it is recorded.
func (s *Service) Admit(ctx context.Context, owner, orderID uuid.UUID) error {
	st, err := s.store.uploadState(ctx, s.store.q, owner, orderID)
	if err != nil {
		return err
	}
	return admit(st, s.limits, 0)
}
