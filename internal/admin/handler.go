package admin

import (
	"fmt"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/auth"
	"github.com/bulwark-dev/bulwark/internal/orders"
	"github.com/bulwark-dev/bulwark/internal/web"
)

// Handler is the HTTP face of the staff service.
type Handler struct {
	svc *Service
}

func NewHandler(svc *Service) *Handler { return &Handler{svc: svc} }

// resolved is the order ResolveOrder loads.
func resolved() web.Resource[Order] { return web.NewResource[Order]("staff order") }

// ResolveOrder is the middleware of the staff {id} routes: it loads the
// order named by {id}, any customer's, before the handler runs, and a
// malformed id is the same 404 as a missing order (web.Resolve). The
// handler reads the order it loaded instead of the path.
func (h *Handler) ResolveOrder(next echo.HandlerFunc) echo.HandlerFunc {
	return web.Resolve(resolved(), ErrNotFound, func(c *echo.Context, id uuid.UUID) (Order, error) {
		return h.svc.Get(c.Request().Context(), id)
	})(next)
}

// ListOrders handles GET /admin/orders.
func (h *Handler) ListOrders(c *echo.Context) error {
	page, err := h.svc.List(c.Request().Context(), c.Request().URL.RawQuery)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toOrderListResponse(page))
}

// UpdateOrder handles PATCH /admin/orders/{id}, behind ResolveOrder.
func (h *Handler) UpdateOrder(c *echo.Context) error {
	var req updateOrderRequest
	if err := c.Bind(&req); err != nil {
		return err
	}
	if req.Status == nil && req.InternalNote == nil {
		return fmt.Errorf("empty admin update: %w", errEmptyUpdate)
	}
	var status *orders.Status
	if req.Status != nil {
		s := orders.Status(*req.Status) // oneof in the DTO has checked it; StaffMayMove refuses any other.
		status = &s
	}
	o, err := h.svc.Update(c.Request().Context(), auth.UserID(c), resolved().Get(c), status, req.InternalNote)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toOrderResponse(o))
}
