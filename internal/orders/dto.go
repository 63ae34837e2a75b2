package orders

import (
	"time"
)

// Request DTOs: one per operation, holding exactly what a customer may
// write. There is no owner, status, total, price, internal note or payment
// reference field to bind to, and the strict binder rejects a body that
// sends one (docs/02-mass-assignment.md). Every string and slice has a
// maximum and dive reaches every element (docs/07-nested-validation.md).

type createOrderRequest struct {
	Items           []itemRequest  `json:"items" validate:"required,min=1,max=50,unique=ProductID,dive"`
	ShippingAddress addressRequest `json:"shipping_address" validate:"required"`
	Note            string         `json:"note" validate:"max=1000,notetext"`
	// CouponCode is checked by the handler (coupons.ParseCode) and
	// redeemed in the order's transaction; the discount is computed there.
	CouponCode string `json:"coupon_code" validate:"max=40"`
}

// itemRequest names a product and a quantity. The price is not a field:
// it comes from the catalogue, inside the order's transaction.
type itemRequest struct {
	ProductID string `json:"product_id" validate:"required,uuid"`
	Quantity  int    `json:"quantity" validate:"min=1,max=1000"`
}

// addressRequest is validated field by field with an allowlist of
// characters: letters and digits of any script, spaces and the punctuation
// real addresses use (. , ' - / # & parentheses). Angle brackets, double
// quotes, backticks, braces, control and invisible characters are refused
// where they are entered, before any screen can show them.
type addressRequest struct {
	Name       string `json:"name" validate:"required,max=100,addresstext"`
	Line1      string `json:"line1" validate:"required,max=200,addresstext"`
	Line2      string `json:"line2" validate:"max=200,addresstext"`
	City       string `json:"city" validate:"required,max=100,addresstext"`
	PostalCode string `json:"postal_code" validate:"required,max=16,postalcode"`
	Country    string `json:"country" validate:"required,len=2,countrycode"`
}

// updateOrderRequest: both fields optional, at least one present. Pointers
// tell "absent" from "empty".
type updateOrderRequest struct {
	ShippingAddress *addressRequest `json:"shipping_address"`
	Note            *string         `json:"note" validate:"omitempty,max=1000,notetext"`
}

func (r addressRequest) toAddress() Address {
	return Address{Name: r.Name, Line1: r.Line1, Line2: r.Line2, City: r.City, PostalCode: r.PostalCode, Country: r.Country}
}

// Response DTOs for customers. They are filled field by field from the
// domain type by the functions below; internal_note and payment_reference
// have no field here, so no code path can send them to a customer
// (docs/03-data-exposure.md).

type orderResponse struct {
	ID              string          `json:"id"`
	Status          string          `json:"status"`
	TotalCents      int64           `json:"total_cents"`
	Currency        string          `json:"currency"`
	Items           []ItemResponse  `json:"items"`
	ShippingAddress AddressResponse `json:"shipping_address"`
	Note            string          `json:"note"`
	CreatedAt       time.Time       `json:"created_at"`
	UpdatedAt       time.Time       `json:"updated_at"`
}

// ItemResponse is an order line as customers and staff see it.
type ItemResponse struct {
	ProductID      string `json:"product_id"`
	Name           string `json:"name"`
	Quantity       int    `json:"quantity"`
	UnitPriceCents int64  `json:"unit_price_cents"`
}

// AddressResponse is a shipping address as customers and staff see it.
type AddressResponse struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
}

type orderListResponse struct {
	Items      []orderResponse `json:"items"`
	NextCursor *string         `json:"next_cursor"`
}

type productResponse struct {
	ID         string `json:"id"`
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	PriceCents int64  `json:"price_cents"`
	Currency   string `json:"currency"`
	Stock      int32  `json:"stock"`
}

type productListResponse struct {
	Items      []productResponse `json:"items"`
	NextCursor *string           `json:"next_cursor"`
}

// ToAddressResponse maps an address; the admin DTOs use it too.
func ToAddressResponse(a Address) AddressResponse {
	return AddressResponse{Name: a.Name, Line1: a.Line1, Line2: a.Line2, City: a.City, PostalCode: a.PostalCode, Country: a.Country}
}

// ToItemResponses maps order lines; the admin DTOs use it too.
func ToItemResponses(items []Item) []ItemResponse {
	out := make([]ItemResponse, 0, len(items))
	for _, it := range items {
		out = append(out, ItemResponse{ProductID: it.ProductID.String(), Name: it.Name, Quantity: it.Quantity, UnitPriceCents: it.UnitPriceCents})
	}
	return out
}

func toOrderResponse(o Order) orderResponse {
	return orderResponse{
		ID:              o.ID.String(),
		Status:          string(o.Status),
		TotalCents:      o.TotalCents,
		Currency:        o.Currency,
		Items:           ToItemResponses(o.Items),
		ShippingAddress: ToAddressResponse(o.ShippingAddress),
		Note:            o.Note,
		CreatedAt:       o.CreatedAt,
		UpdatedAt:       o.UpdatedAt,
	}
}

// placedResponse answers the creation: the order, and what its coupon took
// off the total (0 without one).
type placedResponse struct {
	orderResponse
	DiscountCents int64 `json:"discount_cents"`
}

func toPlacedResponse(p Placed) placedResponse {
	return placedResponse{orderResponse: toOrderResponse(p.Order), DiscountCents: p.DiscountCents}
}

func toOrderListResponse(page Page[Order]) orderListResponse {
	out := orderListResponse{Items: make([]orderResponse, 0, len(page.Orders)), NextCursor: page.NextCursor}
	for _, o := range page.Orders {
		out.Items = append(out.Items, toOrderResponse(o))
	}
	return out
}

func toProductListResponse(page ProductPage) productListResponse {
	out := productListResponse{Items: make([]productResponse, 0, len(page.Items))}
	for _, p := range page.Items {
		out.Items = append(out.Items, productResponse{ID: p.ID.String(), SKU: p.SKU, Name: p.Name, PriceCents: p.PriceCents, Currency: p.Currency, Stock: p.Stock})
	}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	return out
}
