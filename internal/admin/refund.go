package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/audit"
	"github.com/bulwark-dev/bulwark/internal/auth"
	"github.com/bulwark-dev/bulwark/internal/db"
	"github.com/bulwark-dev/bulwark/internal/orders"
	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/web"
)

// Errors of the refund route.
const (
	ErrAlreadyRefunded = web.Conflict("This order has already been refunded.")
	ErrNotRefundable   = web.Conflict("Only paid, shipped or delivered orders can be refunded.")
)

// Refund is money given back for an order: exactly one per order
// (refunds_once_per_order, db/migrations/00005_business_flows.sql).
type Refund struct {
	ID          uuid.UUID
	OrderID     uuid.UUID
	OwnerID     uuid.UUID
	AmountCents int64
	Currency    string
	Reason      string
	CreatedAt   time.Time
}

// cancelled undoes what an order held once staff cancelled it, in the
// transaction (tx) whose conditional status change did it: AdminUpdateOrder
// matched the expected status, which no other request can match again, so
// this runs once per order. The units go back to stock; a paid order is
// refunded, unless a refund exists already (ON CONFLICT DO NOTHING), and
// the refund, when there is one, has its own audit row.
func cancelled(ctx context.Context, tx pgx.Tx, staff uuid.UUID, current Order) error {
	q := db.New(tx)
	held, err := q.AdminListOrderStock(ctx, current.ID)
	if err != nil {
		return fmt.Errorf("load stock of order %s: %w", current.ID, err)
	}
	lines := make([]orders.StockLine, 0, len(held))
	for _, h := range held {
		lines = append(lines, orders.StockLine{ProductID: h.ProductID, Quantity: h.Quantity})
	}
	if err := orders.Release(ctx, q, lines); err != nil {
		return err
	}
	if current.Status != orders.StatusPaid {
		return nil
	}
	id := uuid.New()
	n, err := q.AdminRefundCancelledOrder(ctx, db.AdminRefundCancelledOrderParams{ID: id, OrderID: current.ID, CreatedBy: staff})
	if err != nil {
		return fmt.Errorf("refund order %s: %w", current.ID, err)
	}
	if n == 0 {
		return nil
	}
	return audit.Write(ctx, tx, refundIssued(Refund{
		ID: id, OrderID: current.ID, AmountCents: current.TotalCents, Currency: current.Currency, Reason: "cancelled_by_staff",
	}))
}

// Refund gives the whole total of a paid, shipped or delivered order back,
// once. There is no "refunded yet?" read for a burst to pass together: the
// INSERT carries the status rule in its SELECT, and UNIQUE (order_id)
// refuses every refund after the first, whichever request and route it
// comes from.
func (s *Service) Refund(ctx context.Context, staff uuid.UUID, order Order) (Refund, error) {
	r, err := s.store.refund(ctx, staff, order.ID)
	if errors.Is(err, errNoRow) {
		return Refund{}, fmt.Errorf("order %s is %s: %w", order.ID, order.Status, ErrNotRefundable)
	}
	return r, err
}

// Refunds lists the refunds of an order: none or one.
func (s *Service) Refunds(ctx context.Context, order Order) ([]Refund, error) {
	return s.store.refunds(ctx, order.ID)
}

// refund records the staff refund of order id. It runs in a transaction
// of its own, or joins the one an Idempotency-Key opened for the request
// (postgres.WithTx), so the key is stored with the refund or not at all.
func (s *Store) refund(ctx context.Context, staff, id uuid.UUID) (Refund, error) {
	var r Refund
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		row, err := s.q.WithTx(tx).AdminRefundOrder(ctx, db.AdminRefundOrderParams{ID: uuid.New(), OrderID: id, CreatedBy: staff})
		if postgres.IsUniqueViolation(err, "refunds_once_per_order") {
			return fmt.Errorf("order %s: %w", id, ErrAlreadyRefunded)
		}
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoRow
		}
		if err != nil {
			return fmt.Errorf("refund order %s: %w", id, err)
		}
		r = Refund(row)
		return audit.Write(ctx, tx, refundIssued(r))
	})
	return r, err
}

func (s *Store) refunds(ctx context.Context, id uuid.UUID) ([]Refund, error) {
	rows, err := s.q.AdminListRefunds(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("list refunds of %s: %w", id, err)
	}
	out := make([]Refund, 0, len(rows))
	for _, r := range rows {
		out = append(out, Refund(r))
	}
	return out, nil
}

type refundResponse struct {
	ID          string    `json:"id"`
	OrderID     string    `json:"order_id"`
	AmountCents int64     `json:"amount_cents"`
	Currency    string    `json:"currency"`
	Reason      string    `json:"reason"`
	CreatedAt   time.Time `json:"created_at"`
}

type refundListResponse struct {
	Items []refundResponse `json:"items"`
}

func toRefundResponse(r Refund) refundResponse {
	return refundResponse{ID: r.ID.String(), OrderID: r.OrderID.String(), AmountCents: r.AmountCents, Currency: r.Currency, Reason: r.Reason, CreatedAt: r.CreatedAt}
}

// Refund handles POST /admin/orders/{id}/refund, behind StaffOrder, a
// recent second factor and an optional Idempotency-Key (routes.go).
func (h *Handler) Refund(c *echo.Context) error {
	r, err := h.svc.Refund(c.Request().Context(), auth.UserID(c), resolved().Get(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toRefundResponse(r))
}

// Refunds handles GET /admin/orders/{id}/refunds.
func (h *Handler) Refunds(c *echo.Context) error {
	rs, err := h.svc.Refunds(c.Request().Context(), resolved().Get(c))
	if err != nil {
		return err
	}
	out := refundListResponse{Items: make([]refundResponse, 0, len(rs))}
	for _, r := range rs {
		out.Items = append(out.Items, toRefundResponse(r))
	}
	return c.JSON(http.StatusOK, out)
}
