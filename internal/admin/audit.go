package admin

import (
	"github.com/bulwark-dev/bulwark/internal/audit"
	"github.com/bulwark-dev/bulwark/internal/orders"
)

// ActionOrderUpdate is the trail's name for a staff change of an order's
// status or internal note.
const ActionOrderUpdate = "order.update"

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
