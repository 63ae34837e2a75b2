package coupons

import (
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/auth"
)

// Handler is the staff API of coupons: bind, validate, call, map.
type Handler struct {
	svc *Service
}

func NewHandler(svc *Service) *Handler { return &Handler{svc: svc} }

// Create handles POST /admin/coupons, behind the Staff policy and a
// recent second factor (routes.go).
func (h *Handler) Create(c *echo.Context) error {
	var req createRequest
	if err := c.Bind(&req); err != nil {
		return err
	}
	created, err := h.svc.Create(c.Request().Context(), auth.UserID(c), NewCoupon{
		Terms:          Terms{PercentOff: req.PercentOff, AmountOffCents: req.AmountOffCents, Currency: req.Currency},
		MaxRedemptions: req.MaxRedemptions,
		ExpiresAt:      req.ExpiresAt,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, createdResponse{couponResponse: toCouponResponse(created.Coupon), Code: created.Code})
}

// List handles GET /admin/coupons.
func (h *Handler) List(c *echo.Context) error {
	cs, err := h.svc.List(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toListResponse(cs))
}
