package admin

import (
	"time"

	"github.com/bulwark-dev/bulwark/internal/orders"
)

// updateOrderRequest: what staff may change. Owner, items, prices, totals
// and the payment reference are not fields.
type updateOrderRequest struct {
	Status       *string `json:"status" validate:"omitempty,oneof=pending paid shipped delivered cancelled"`
	InternalNote *string `json:"internal_note" validate:"omitempty,max=2000,notetext"`
}

// orderResponse is the staff view of an order. It differs from the
// customer's by design (one DTO per audience): it has the customer and the
// internal note, and still no payment reference (docs/03-data-exposure.md).
type orderResponse struct {
	ID              string                 `json:"id"`
	Status          string                 `json:"status"`
	TotalCents      int64                  `json:"total_cents"`
	Currency        string                 `json:"currency"`
	Customer        customerResponse       `json:"customer"`
	Items           []orders.ItemResponse  `json:"items"`
	ShippingAddress orders.AddressResponse `json:"shipping_address"`
	Note            string                 `json:"note"`
	InternalNote    string                 `json:"internal_note"`
	CreatedAt       time.Time              `json:"created_at"`
	UpdatedAt       time.Time              `json:"updated_at"`
}

type customerResponse struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

type orderListResponse struct {
	Items      []orderResponse `json:"items"`
	NextCursor *string         `json:"next_cursor"`
}

func toOrderResponse(o Order) orderResponse {
	return orderResponse{
		ID:              o.ID.String(),
		Status:          string(o.Status),
		TotalCents:      o.TotalCents,
		Currency:        o.Currency,
		Customer:        customerResponse{ID: o.OwnerID.String(), Name: o.CustomerName, Email: o.CustomerEmail},
		Items:           orders.ToItemResponses(o.Items),
		ShippingAddress: orders.ToAddressResponse(o.ShippingAddress),
		Note:            o.Note,
		InternalNote:    o.InternalNote,
		CreatedAt:       o.CreatedAt,
		UpdatedAt:       o.UpdatedAt,
	}
}

func toOrderListResponse(p orders.Page[Order]) orderListResponse {
	out := orderListResponse{Items: make([]orderResponse, 0, len(p.Orders)), NextCursor: p.NextCursor}
	for _, o := range p.Orders {
		out.Items = append(out.Items, toOrderResponse(o))
	}
	return out
}
