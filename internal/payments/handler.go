package payments

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/orders"
	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/web"
	"github.com/bulwark-dev/bulwark/internal/web/secevent"
)

// Handler is the HTTP face of payments.
type Handler struct {
	svc      *Service
	verifier *Verifier
	provider *Provider // nil: payments are off
}

// NewHandler builds the handler.
func NewHandler(svc *Service, verifier *Verifier, provider *Provider) *Handler {
	return &Handler{svc: svc, verifier: verifier, provider: provider}
}

// ErrNotPending refuses to pay an order that is not waiting for payment.
const ErrNotPending = web.Conflict("Only a pending order can be paid.")

// Pay handles POST /orders/{id}/pay: a payment of the order's total is
// created at the provider, and the customer is sent to its checkout page.
// Nothing changes here: the order becomes paid only when the provider's
// signed webhook says so (Webhook).
func (h *Handler) Pay(c *echo.Context) error {
	o := orders.OwnedOrder(c)
	if o.Status != orders.StatusPending {
		return fmt.Errorf("order %s is %s: %w", o.ID, o.Status, ErrNotPending)
	}
	if h.provider == nil {
		return fmt.Errorf("PAYMENT_PROVIDER_URL is not set: %w", ErrPaymentsOff)
	}
	// The provider is not called for a session that has ended (free here:
	// the order was read in this session).
	if err := h.svc.requireLiveSession(c.Request().Context()); err != nil {
		return err
	}
	co, err := h.provider.CreatePayment(c.Request().Context(), o.ID, o.TotalCents, o.Currency)
	if err != nil {
		// As text, not in the chain: whatever the provider did, the
		// answer is the one 503 (a deadline in the chain would read as the
		// database's).
		return fmt.Errorf("order %s: %s: %w", o.ID, err.Error(), ErrProviderDown)
	}
	return c.JSON(http.StatusCreated, payResponse{PaymentID: co.PaymentID, CheckoutURL: co.CheckoutURL})
}

// Webhook handles POST /webhooks/payments, the provider's events. The
// signature is checked over the raw bytes before anything is parsed; the
// event is then applied at most once.
func (h *Handler) Webhook(c *echo.Context) error {
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, MaxEventBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return fmt.Errorf("webhook body: %w", echo.ErrStatusRequestEntityTooLarge)
		}
		return fmt.Errorf("read webhook body: %w: %w", err, ErrBadEvent)
	}
	if err := h.verifier.Verify(c.Request().Header.Get(SignatureHeader), body); err != nil {
		secevent.Emit(c.Request().Context(), secevent.SignatureInvalid, secevent.ReasonWebhook)
		return err
	}
	ev, err := ParseEvent(body)
	if err != nil {
		return err
	}
	// Only now, with the provider's signature verified, do its statements
	// get the payment scope, which row-level security lets move a pending
	// order to paid and nothing else (db/migrations/00004_payment_events.sql).
	ctx := postgres.WithIdentity(c.Request().Context(), postgres.PaymentProvider())
	outcome, err := h.svc.Apply(ctx, ev)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, webhookResponse{Status: outcome})
}
