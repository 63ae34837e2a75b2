package admin

import (
	"fmt"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/orders"
)

// Handler is the HTTP face of the staff service.
type Handler struct {
	svc     *Service
	cursors *orders.Cursors
}

// NewHandler builds the handler.
func NewHandler(svc *Service, cursors *orders.Cursors) *Handler {
	return &Handler{svc: svc, cursors: cursors}
}

// ListOrders handles GET /admin/orders.
func (h *Handler) ListOrders(c *echo.Context) error {
	p, err := orders.ParseListParams(c.Request().URL.RawQuery, h.cursors, scope)
	if err != nil {
		return err
	}
	page, err := h.svc.List(c.Request().Context(), p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toOrderListResponse(page))
}

// UpdateOrder handles PATCH /admin/orders/{id}.
func (h *Handler) UpdateOrder(c *echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return fmt.Errorf("order id %q: %w", c.Param("id"), ErrNotFound)
	}
	var req updateOrderRequest
	if err := c.Bind(&req); err != nil {
		return err
	}
	if req.Status == nil && req.InternalNote == nil {
		return fmt.Errorf("empty admin update: %w", errEmptyUpdate)
	}
	var status *orders.Status
	if req.Status != nil {
		s := orders.Status(*req.Status) // oneof in the DTO has checked it.
		status = &s
	}
	o, err := h.svc.Update(c.Request().Context(), id, status, req.InternalNote)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toOrderResponse(o))
}
