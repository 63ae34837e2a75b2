// Package orders is ordering: an order and its life cycle (this file), the
// catalogue, the orders a customer creates, lists, reads, changes and
// cancels, and how orders are listed, which the staff list shares
// (list.go). Every customer's read and write is scoped to the caller in
// the SQL itself (store.go), and a middleware resolves {id} for the caller
// before any handler runs (docs/01-bola.md).
package orders

import (
	"slices"
	"time"

	"github.com/google/uuid"
)

// Order is an order as the service sees it.
type Order struct {
	ID              uuid.UUID
	OwnerID         uuid.UUID
	Status          Status
	TotalCents      int64
	Currency        string
	ShippingAddress Address
	Note            string
	Items           []Item
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Address is a shipping address.
type Address struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
}

// Item is one order line, priced from the catalogue when the order was made.
type Item struct {
	ProductID      uuid.UUID
	Name           string
	Quantity       int
	UnitPriceCents int64
}

// Product is a catalogue entry.
type Product struct {
	ID         uuid.UUID
	SKU        string
	Name       string
	PriceCents int64
	Currency   string
	Stock      int32 // units left to sell
}

// NewItem is a line of a new order: what the customer chose, nothing more.
type NewItem struct {
	ProductID uuid.UUID
	Quantity  int
}

// Status is an order's state. The database has the same list as a CHECK.
//
// A customer may change a pending order and cancel a pending or paid one;
// those rules are in the WHERE clauses of UpdatePendingOrderForOwner and
// CancelOrderForOwner (db/queries/orders.sql), so a concurrent status change
// cannot slip between a read and the write. Staff move orders along the
// rest of the life cycle (StaffMayMove).
type Status string

// Order states.
const (
	StatusPending   Status = "pending"
	StatusPaid      Status = "paid"
	StatusShipped   Status = "shipped"
	StatusDelivered Status = "delivered"
	StatusCancelled Status = "cancelled"
)

// staffMoves is the order life cycle staff may drive. Anything not listed
// is refused; cancelled and delivered are final.
func staffMoves() map[Status][]Status {
	return map[Status][]Status{
		StatusPending: {StatusPaid, StatusCancelled},
		StatusPaid:    {StatusShipped, StatusCancelled},
		StatusShipped: {StatusDelivered},
	}
}

// StaffMayMove reports whether staff may move an order from s to next.
func (s Status) StaffMayMove(next Status) bool {
	return slices.Contains(staffMoves()[s], next)
}
