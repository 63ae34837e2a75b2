package orders

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/auth"
)

// Handler is the HTTP face of the order service: bind, validate, call, map.
// It never touches SQL and never decides ownership itself.
type Handler struct {
	svc *Service
}

// NewHandler builds the handler.
func NewHandler(svc *Service) *Handler { return &Handler{svc: svc} }

const ownedOrderKey = "orders.owned"

// OwnedFinder loads an order for its owner, or fails with ErrNotFound.
// *Service is the one the server uses; ResolveOwned asks for no more than
// this method, so the lookup is a part the server is assembled from
// (internal/app.Parts.OrderFinder).
type OwnedFinder interface {
	GetForOwner(ctx context.Context, owner, id uuid.UUID) (Order, error)
}

// ResolveOwned loads the order named by the {id} path parameter for the
// caller, before the handler runs, and refuses the request with 404 when
// the caller does not own it. A malformed id, a missing order and another
// customer's order get the same answer, so the answer says nothing about
// which ids exist (docs/01-bola.md). Handlers behind it read the order from
// the context instead of the path, so none can forget the check.
func ResolveOwned(find OwnedFinder) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			id, err := uuid.Parse(c.Param("id"))
			if err != nil {
				return fmt.Errorf("order id %q: %w", c.Param("id"), ErrNotFound)
			}
			order, err := find.GetForOwner(c.Request().Context(), auth.UserID(c), id)
			if err != nil {
				return err
			}
			c.Set(ownedOrderKey, order)
			return next(c)
		}
	}
}

// OwnedOrder returns the order ResolveOwned loaded. It panics on a route
// without ResolveOwned: a wiring bug must fail loudly, never serve an
// unchecked id.
func OwnedOrder(c *echo.Context) Order {
	o, ok := c.Get(ownedOrderKey).(Order)
	if !ok {
		panic("orders: route is missing the ResolveOwned middleware")
	}
	return o
}

// ListProducts handles GET /products.
func (h *Handler) ListProducts(c *echo.Context) error {
	products, err := h.svc.Products(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toProductListResponse(products))
}

// Create handles POST /orders.
func (h *Handler) Create(c *echo.Context) error {
	var req createOrderRequest
	if err := c.Bind(&req); err != nil {
		return err
	}
	items := make([]NewItem, 0, len(req.Items))
	for _, it := range req.Items {
		// The validator has already checked the id is a UUID.
		items = append(items, NewItem{ProductID: uuid.MustParse(it.ProductID), Quantity: it.Quantity})
	}
	o, err := h.svc.Create(c.Request().Context(), auth.UserID(c), items, req.ShippingAddress.toAddress(), req.Note)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toOrderResponse(o))
}

// List handles GET /orders: the caller's orders only.
func (h *Handler) List(c *echo.Context) error {
	owner := auth.UserID(c)
	p, err := ParseListParams(c.Request().URL.RawQuery, h.svc.Cursors(), Scope(owner))
	if err != nil {
		return err
	}
	page, err := h.svc.ListForOwner(c.Request().Context(), owner, p)
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
