package admin

import (
	"github.com/bulwark-dev/bulwark/internal/audit"
	"github.com/bulwark-dev/bulwark/internal/orders"
)

// The trail's names for the staff actions of this package.
const (
	// ActionOrderUpdate is a change of an order's status or internal note.
	ActionOrderUpdate = "order.update"
	// ActionRefundIssue is a refund, by the refund route or by cancelling
	// a paid order.
	ActionRefundIssue = "refund.issue"
)

// orderFields are the staff-editable fields of an order, as the trail
// records them: only those the change named.
type orderFields struct {
	Status       *string `json:"status,omitempty"`
	InternalNote *string `json:"internal_note,omitempty"`
}

// orderChange is the audit entry of moving current to next and, when note
// is not nil, replacing its internal note.
func orderChange(current Order, next orders.Status, note *string) audit.Entry {
	var before, after orderFields
	if next != current.Status {
		was, is := string(current.Status), string(next)
		before.Status, after.Status = &was, &is
	}
	if note != nil {
		was := current.InternalNote
		before.InternalNote, after.InternalNote = &was, note
	}
	return audit.Entry{Action: ActionOrderUpdate, TargetType: "order", TargetID: current.ID.String(), Before: before, After: after}
}

// refundFields are a refund as the trail records it.
type refundFields struct {
	OrderID     string `json:"order_id"`
	AmountCents int64  `json:"amount_cents"`
	Currency    string `json:"currency"`
	Reason      string `json:"reason"`
}

// refundIssued is the audit entry of a new refund: nothing before, the
// refund after.
func refundIssued(r Refund) audit.Entry {
	return audit.Entry{Action: ActionRefundIssue, TargetType: "refund", TargetID: r.ID.String(), After: refundFields{
		OrderID: r.OrderID.String(), AmountCents: r.AmountCents, Currency: r.Currency, Reason: r.Reason,
	}}
}
