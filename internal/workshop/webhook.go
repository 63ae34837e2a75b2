//go:build workshop

package workshop

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/payments"
)

// POST /api/v1/webhooks/payments, trusting the payment provider's events.
//
// Vulnerable: no signature check. Anyone who can reach the route posts
// {"type":"payment.succeeded","data":{"order_id":…}} and their order is
// paid. The event is decoded loosely and the order updated by id alone.
//
// Naive: the HMAC signature is checked (so a forged event is refused), and
// that is all. There is no timestamp window and no record of processed
// events, so a captured event can be replayed whenever it pays again (after
// a cancellation, say), and nothing compares the amount with the order, so
// paying a cheap order's amount with an expensive order's reference pays
// the expensive one.
//
// Secure code: internal/payments: the signature over timestamp and raw
// body with every current secret, the 5-minute window (signature.go),
// strict parsing (event.go), and one transaction that records the event id
// once and moves only a pending order with that exact total to paid
// (store.go, db/queries/payments.sql).
type looseEvent struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Data struct {
		PaymentID string `json:"payment_id"`
		OrderID   string `json:"order_id"`
	} `json:"data"`
}

func webhookVulnerable(pool *pgxpool.Pool) echo.HandlerFunc {
	return func(c *echo.Context) error {
		body, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		return markPaid(c, pool, body)
	}
}

func webhookNaive(pool *pgxpool.Pool, secrets [][]byte) echo.HandlerFunc {
	return func(c *echo.Context) error {
		body, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		if !signedByAny(c.Request().Header.Get(payments.SignatureHeader), body, secrets) {
			return fmt.Errorf("naive webhook: %w", payments.ErrSignature)
		}
		return markPaid(c, pool, body)
	}
}

// signedByAny checks the HMAC and ignores t, except as signed text: an
// event signed a year ago is as good as one signed now.
func signedByAny(header string, body []byte, secrets [][]byte) bool {
	var t string
	var sigs []string
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			t = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	for _, s := range secrets {
		m := hmac.New(sha256.New, s)
		m.Write([]byte(t + "."))
		m.Write(body)
		want := hex.EncodeToString(m.Sum(nil))
		for _, sig := range sigs {
			if hmac.Equal([]byte(sig), []byte(want)) {
				return true
			}
		}
	}
	return false
}

// markPaid believes the event: whatever order it names becomes paid, in
// whatever state, for whatever amount, as often as it arrives.
func markPaid(c *echo.Context, pool *pgxpool.Pool, body []byte) error {
	var ev looseEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return fmt.Errorf("decode event: %w", payments.ErrBadEvent)
	}
	if ev.Type == payments.EventPaymentSucceeded {
		if _, err := pool.Exec(c.Request().Context(),
			`UPDATE orders SET status = 'paid', payment_reference = $2, updated_at = now() WHERE id = $1`,
			ev.Data.OrderID, ev.Data.PaymentID); err != nil {
			return fmt.Errorf("naive webhook: %w", err)
		}
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "processed"})
}
