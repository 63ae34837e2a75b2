package orders

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/auth"
	"github.com/bulwark-dev/bulwark/internal/web"
)

// Handler is the HTTP face of the order service: bind, validate, call, map.
// It never touches SQL and never decides ownership itself.
type Handler struct {
	svc     *Service
	coupons *couponGuard
}

func NewHandler(svc *Service) *Handler { return &Handler{svc: svc} }

// OwnedFinder loads an order for its owner, or fails with ErrNotFound.
// *Service is the one the server uses; ResolveOwned asks for no more than
// this method, so the lookup is a part the server is assembled from
// (internal/app.Parts.OrderFinder).
type OwnedFinder interface {
	GetForOwner(ctx context.Context, owner, id uuid.UUID) (Order, error)
}

// owned is the order ResolveOwned loads.
func owned() web.Resource[Order] { return web.NewResource[Order]("order") }

// ResolveOwned loads the order named by the {id} path parameter for the
// caller, before the handler runs, and refuses the request with 404 when
// the caller does not own it. A malformed id, a missing order and another
// customer's order get the same answer, so the answer says nothing about
// which ids exist (docs/01-bola.md). Handlers behind it read the order with
// OwnedOrder instead of the path, so none can forget the check.
func ResolveOwned(find OwnedFinder) echo.MiddlewareFunc {
	return web.Resolve(owned(), ErrNotFound, func(c *echo.Context, id uuid.UUID) (Order, error) {
		return find.GetForOwner(c.Request().Context(), auth.UserID(c), id)
	})
}

// OwnedOrder returns the order ResolveOwned loaded. It panics on a route
// without ResolveOwned: a wiring bug must fail loudly, never serve an
// unchecked id.
func OwnedOrder(c *echo.Context) Order { return owned().Get(c) }

// ListProducts handles GET /products?limit=&cursor=.
func (h *Handler) ListProducts(c *echo.Context) error {
	page, err := h.svc.Products(c.Request().Context(), c.Request().URL.RawQuery)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toProductListResponse(page))
}

// Create handles POST /orders.
func (h *Handler) Create(c *echo.Context) error {
	var req createOrderRequest
	if err := c.Bind(&req); err != nil {
		return err
	}
	items := make([]NewItem, 0, len(req.Items))
	var bad []web.FieldError
	for i, it := range req.Items {
		// The validator checks this too, but it is a part the server is
		// assembled from; a malformed id is a 400 whichever one runs.
		id, err := uuid.Parse(it.ProductID)
		if err != nil {
			bad = append(bad, web.FieldError{Field: fmt.Sprintf("items[%d].product_id", i), Message: "must be a UUID"})
		}
		items = append(items, NewItem{ProductID: id, Quantity: it.Quantity})
	}
	if len(bad) > 0 {
		return &web.ValidationError{Fields: bad}
	}
	coupon, err := parseCoupon(req.CouponCode)
	if err != nil {
		return err
	}
	if coupon != "" {
		if err := h.coupons.spend(c); err != nil {
			return err
		}
	}
	o, err := h.svc.Create(c.Request().Context(), auth.UserID(c), items, req.ShippingAddress.toAddress(), req.Note, coupon)
	if err != nil {
		return err
	}
	if coupon != "" {
		h.coupons.giveBack(c)
	}
	return c.JSON(http.StatusCreated, toPlacedResponse(o))
}

// List handles GET /orders: the caller's orders only.
func (h *Handler) List(c *echo.Context) error {
	page, err := h.svc.List(c.Request().Context(), auth.UserID(c), c.Request().URL.RawQuery)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toOrderListResponse(page))
}

// Get handles GET /orders/{id}.
func (h *Handler) Get(c *echo.Context) error {
	return c.JSON(http.StatusOK, toOrderResponse(OwnedOrder(c)))
}

// Update handles PATCH /orders/{id}: address and note, while pending.
func (h *Handler) Update(c *echo.Context) error {
	var req updateOrderRequest
	if err := c.Bind(&req); err != nil {
		return err
	}
	if req.ShippingAddress == nil && req.Note == nil {
		return paramError("(body)", "send shipping_address, note or both")
	}
	var addr *Address
	if req.ShippingAddress != nil {
		a := req.ShippingAddress.toAddress()
		addr = &a
	}
	o, err := h.svc.UpdateForOwner(c.Request().Context(), auth.UserID(c), OwnedOrder(c), addr, req.Note)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toOrderResponse(o))
}

// Cancel handles POST /orders/{id}/cancel.
func (h *Handler) Cancel(c *echo.Context) error {
	o, err := h.svc.CancelForOwner(c.Request().Context(), auth.UserID(c), OwnedOrder(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toOrderResponse(o))
}
