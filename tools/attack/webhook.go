package attack

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// WebhookKey is the secret the payment provider signs its webhooks with,
// when the runner knows it (-webhook-secret): the attacks that replay or
// bend a genuinely signed event need it, modelling an event captured on
// the wire, from a log, or from the provider's dashboard.
type WebhookKey struct {
	ID     string
	Secret []byte
}

const webhookPath = "/api/v1/webhooks/payments"

// Trusting the payment provider's webhook (docs/11-third-party-data.md).
// Each attack tries to get an order marked paid that was not paid for, and
// reads the order back: "paid" is EXPLOITED.
func webhookAttacks() []Attack {
	return []Attack{
		{
			ID: "webhook/unsigned", Issue: "webhook", OWASP: "API10:2023", CWE: "CWE-345",
			Story: "Post a payment.succeeded event for alice's own unpaid order straight to the webhook, unsigned and with a made-up signature.",
			Run:   webhookUnsigned,
		},
		{
			ID: "webhook/replay", Issue: "webhook", OWASP: "API10:2023", CWE: "CWE-294",
			Story: "Pay an order, cancel it (the money goes back), then replay the captured, correctly signed payment event: the cancelled order is paid again.",
			Run:   webhookReplay,
		},
		{
			ID: "webhook/underpay", Issue: "webhook", OWASP: "API10:2023", CWE: "CWE-20",
			Story: "Pay a cheap order's amount with an expensive order's reference: the provider signs a genuine event for the small amount, naming the expensive order.",
			Run:   webhookUnderpay,
		},
	}
}

func webhookUnsigned(ctx context.Context, t *Target) (Result, error) {
	tok, o, err := t.importOrder(ctx)
	if err != nil {
		return Result{}, err
	}
	body := webhookEvent(o.ID, o.TotalCents, "EUR")
	var answers []string
	for _, sig := range []string{"", fmt.Sprintf("t=%d,v1=%064d", time.Now().Unix(), 0)} {
		x, err := t.sendWebhook(ctx, body, sig)
		if err != nil {
			return Result{}, err
		}
		if paid, y, err := t.isPaid(ctx, tok, o.ID); err != nil {
			return Result{}, err
		} else if paid {
			return exploited("an unsigned event paid alice's order: %s; then %s", x, y)
		}
		answers = append(answers, strconv.Itoa(x.status))
	}
	return blocked("unsigned and forged events answered %v; the order is still unpaid", answers)
}

func webhookReplay(ctx context.Context, t *Target) (Result, error) {
	if t.Webhook == nil {
		return skipped("needs the webhook secret (-webhook-secret) to stand in for a captured event")
	}
	tok, o, err := t.importOrder(ctx)
	if err != nil {
		return Result{}, err
	}
	// The genuine delivery, as the provider sends it when alice pays.
	body := webhookEvent(o.ID, o.TotalCents, "EUR")
	sig := t.signWebhook(time.Now(), body)
	if _, err := t.sendWebhook(ctx, body, sig); err != nil {
		return Result{}, err
	}
	if paid, y, err := t.isPaid(ctx, tok, o.ID); err != nil {
		return Result{}, err
	} else if !paid {
		return Result{}, fmt.Errorf("control: the genuine signed event did not pay the order (wrong -webhook-secret?): %s", y)
	}
	c, err := t.send(ctx, request{method: http.MethodPost, path: "/api/v1/orders/" + o.ID + "/cancel", token: tok})
	if err != nil {
		return Result{}, err
	}
	if c.status != http.StatusOK {
		return Result{}, fmt.Errorf("control: cancel the paid order: %s", c)
	}
	x, err := t.sendWebhook(ctx, body, sig)
	if err != nil {
		return Result{}, err
	}
	paid, y, err := t.isPaid(ctx, tok, o.ID)
	if err != nil {
		return Result{}, err
	}
	if paid {
		return exploited("the replayed event paid the cancelled order again: %s; then %s", x, y)
	}
	return blocked("the replay changed nothing, the order stays cancelled: %s", x)
}

func webhookUnderpay(ctx context.Context, t *Target) (Result, error) {
	if t.Webhook == nil {
		return skipped("needs the webhook secret (-webhook-secret) to stand in for the provider's genuine event")
	}
	tok, expensive, err := t.importOrder(ctx)
	if err != nil {
		return Result{}, err
	}
	cheap, err := t.cheapOrder(ctx, tok)
	if err != nil {
		return Result{}, err
	}
	if cheap.TotalCents >= expensive.TotalCents {
		return Result{}, fmt.Errorf("control: the cheap order (%d) is not cheaper than %d", cheap.TotalCents, expensive.TotalCents)
	}
	body := webhookEvent(expensive.ID, cheap.TotalCents, "EUR")
	x, err := t.sendWebhook(ctx, body, t.signWebhook(time.Now(), body))
	if err != nil {
		return Result{}, err
	}
	if paid, y, err := t.isPaid(ctx, tok, expensive.ID); err != nil {
		return Result{}, err
	} else if paid {
		return exploited("%d cents paid the %d-cent order: %s; then %s", cheap.TotalCents, expensive.TotalCents, x, y)
	}
	// The full amount must still go through, or the refusal proves nothing.
	full := webhookEvent(expensive.ID, expensive.TotalCents, "EUR")
	if _, err := t.sendWebhook(ctx, full, t.signWebhook(time.Now(), full)); err != nil {
		return Result{}, err
	}
	if paid, y, err := t.isPaid(ctx, tok, expensive.ID); err != nil {
		return Result{}, err
	} else if !paid {
		return Result{}, fmt.Errorf("control: the full amount, correctly signed, did not pay the order (wrong -webhook-secret?): %s", y)
	}
	return blocked("%d cents for the %d-cent order was refused, the full amount accepted: %s", cheap.TotalCents, expensive.TotalCents, x)
}

// cheapOrder places an order of one cable.
func (t *Target) cheapOrder(ctx context.Context, token string) (order, error) {
	body, _ := json.Marshal(map[string]any{
		"items": []map[string]any{{"product_id": productCable, "quantity": 1}}, "shipping_address": validAddress(),
	})
	x, err := t.send(ctx, request{method: http.MethodPost, path: "/api/v1/orders", body: string(body), token: token})
	if err != nil {
		return order{}, err
	}
	var o order
	if x.status != http.StatusCreated || json.Unmarshal(x.body, &o) != nil {
		return order{}, fmt.Errorf("control: create the cheap order: %s", x)
	}
	return o, nil
}

func (t *Target) isPaid(ctx context.Context, token, orderID string) (bool, *exchange, error) {
	o, x, err := t.getOrder(ctx, token, orderID)
	if err != nil {
		return false, x, err
	}
	if x.status != http.StatusOK {
		return false, x, fmt.Errorf("control: read the order back: %s", x)
	}
	return o.Status == "paid", x, nil
}

// webhookEvent is a payment.succeeded event with a fresh id, in the
// provider's format.
func webhookEvent(orderID string, amountCents int64, currency string) []byte {
	b, _ := json.Marshal(webhookEventBody(orderID, amountCents, currency))
	return b
}

// webhookEventBody is that event as a map, for the battery to mutate.
func webhookEventBody(orderID string, amountCents int64, currency string) map[string]any {
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	return map[string]any{
		"id": "evt_" + hex.EncodeToString(id), "type": "payment.succeeded", "created": time.Now().Unix(),
		"data": map[string]any{"payment_id": "pay_" + hex.EncodeToString(id), "order_id": orderID, "amount_cents": amountCents, "currency": currency},
	}
}

// signWebhook signs as the provider does: HMAC-SHA256 over
// "<unix time>.<body>".
func (t *Target) signWebhook(at time.Time, body []byte) string {
	ts := strconv.FormatInt(at.Unix(), 10)
	m := hmac.New(sha256.New, t.Webhook.Secret)
	m.Write([]byte(ts + "."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

func (t *Target) sendWebhook(ctx context.Context, body []byte, signature string) (*exchange, error) {
	headers := map[string]string{}
	if signature != "" {
		headers[signatureHeader] = signature
	}
	return t.send(ctx, request{method: http.MethodPost, path: webhookPath, body: string(body), headers: headers})
}
