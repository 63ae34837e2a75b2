// Package fakepay is a payment provider for development and tests: it
// speaks the protocol Bulwark's payments client and webhook expect
// (docs/11-third-party-data.md) on loopback, and signs its webhooks with
// the shared secret, as a real provider does. It is written apart from
// internal/payments on purpose: a test in which both ends share one
// signing function could not notice that function being wrong.
//
// Its API:
//
//	POST /v1/payments                 {"order_id","amount_cents","currency"} → 201 {"id","checkout_url",…}
//	                                  (Idempotency-Key: the same key returns the same payment)
//	GET  /checkout/{id}               the checkout page, with a Pay button
//	POST /checkout/{id}/pay           the customer pays: the payment succeeds and the
//	                                  signed payment.succeeded event is sent to the webhook
//
// A Fault makes the API misbehave, for the tests of what the service does
// when its provider fails.
package fakepay

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault is a way for the provider's API to fail.
type Fault string

// The faults.
const (
	None     Fault = ""
	Hang     Fault = "hang"     // never answers
	Garbage  Fault = "garbage"  // 201 with a body that is not a payment
	Huge     Fault = "huge"     // 201 JSON, megabytes of it
	Error    Fault = "error"    // 500
	Redirect Fault = "redirect" // 307 to somewhere else
	BadURL   Fault = "bad-url"  // 201 with a javascript: checkout URL
)

// Payment is one payment at the provider.
type Payment struct {
	ID          string `json:"id"`
	OrderID     string `json:"order_id"`
	AmountCents int64  `json:"amount_cents"`
	Currency    string `json:"currency"`
	Status      string `json:"status"` // open, succeeded
	CheckoutURL string `json:"checkout_url"`
}

// Delivery is one webhook sent: the exact bytes and header, as someone
// watching the wire (or the provider's dashboard) would capture them.
type Delivery struct {
	Body      []byte
	Signature string
	Status    int
	Answer    string
}

// Provider is the fake provider. Its zero value is not usable: use New.
type Provider struct {
	// URL is the base URL it serves on.
	URL string

	mu         sync.Mutex
	secrets    [][]byte
	webhook    string
	fault      Fault
	payments   map[string]*Payment
	byKey      map[string]string
	deliveries []Delivery
	client     *http.Client
	srv        *http.Server
	page       *template.Template
}

// Start serves the provider on addr (loopback). secrets sign every webhook,
// one v1 signature each (two while rotating); webhookURL receives the
// events (SetWebhook can set it later).
func Start(addr, webhookURL string, secrets ...[]byte) (*Provider, error) {
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("fakepay: listen %s: %w", addr, err)
	}
	p := &Provider{
		URL: "http://" + ln.Addr().String(), secrets: secrets, webhook: webhookURL,
		payments: map[string]*Payment{}, byKey: map[string]string{},
		client: &http.Client{Timeout: 10 * time.Second},
		page:   template.Must(template.New("checkout").Parse(checkoutHTML)),
	}
	p.srv = &http.Server{Handler: p.routes(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// Close stops the provider; a hanging request is cut off.
func (p *Provider) Close() { _ = p.srv.Close() }

// SetWebhook sets where events are sent.
func (p *Provider) SetWebhook(u string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.webhook = u
}

// SetFault makes the API fail in one way (None to stop).
func (p *Provider) SetFault(f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault = f
}

// Deliveries returns every webhook sent so far.
func (p *Provider) Deliveries() []Delivery {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Delivery(nil), p.deliveries...)
}

// Payments returns a copy of every payment.
func (p *Provider) Payments() []Payment {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Payment, 0, len(p.payments))
	for _, pay := range p.payments {
		out = append(out, *pay)
	}
	return out
}

func (p *Provider) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/payments", p.create)
	mux.HandleFunc("GET /checkout/{id}", p.checkout)
	mux.HandleFunc("POST /checkout/{id}/pay", p.pay)
	return mux
}

func (p *Provider) create(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	fault := p.fault
	p.mu.Unlock()
	if p.misbehave(w, r, fault) {
		return
	}
	var req struct {
		OrderID     string `json:"order_id"`
		AmountCents int64  `json:"amount_cents"`
		Currency    string `json:"currency"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || req.OrderID == "" || req.AmountCents <= 0 || len(req.Currency) != 3 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid payment request"})
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	key := r.Header.Get("Idempotency-Key")
	if id, ok := p.byKey[key]; ok && key != "" {
		writeJSON(w, http.StatusOK, p.payments[id])
		return
	}
	id := "pay_" + randomID()
	pay := &Payment{ID: id, OrderID: req.OrderID, AmountCents: req.AmountCents, Currency: req.Currency, Status: "open", CheckoutURL: p.URL + "/checkout/" + id}
	p.payments[id] = pay
	if key != "" {
		p.byKey[key] = id
	}
	writeJSON(w, http.StatusCreated, pay)
}

// misbehave answers as the fault says; false means behave.
func (p *Provider) misbehave(w http.ResponseWriter, r *http.Request, fault Fault) bool {
	switch fault {
	case Hang:
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
	case Garbage:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `<html>{"id": 12, "checkout_url": [}`)
	case Huge:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"id":"pay_AAAAAAAAAAAA","padding":"`)
		chunk := strings.Repeat("x", 64<<10)
		for range 64 { // 4 MiB
			if _, err := io.WriteString(w, chunk); err != nil {
				return true
			}
		}
		_, _ = io.WriteString(w, `"}`)
	case Error:
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
	case Redirect:
		http.Redirect(w, r, "http://127.0.0.1:1/v1/payments", http.StatusTemporaryRedirect)
	case BadURL:
		writeJSON(w, http.StatusCreated, map[string]string{"id": "pay_" + randomID(), "checkout_url": "javascript:alert(document.cookie)"})
	default:
		return false
	}
	return true
}

const checkoutHTML = `<!DOCTYPE html>
<title>fakepay checkout</title>
<h1>fakepay</h1>
<p>Order {{.OrderID}}: {{.AmountCents}} cents {{.Currency}} ({{.Status}})</p>
<form method="post" action="/checkout/{{.ID}}/pay"><button>Pay</button></form>
`

func (p *Provider) checkout(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	pay, ok := p.payments[r.PathValue("id")]
	var copied Payment
	if ok {
		copied = *pay
	}
	p.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = p.page.Execute(w, copied)
}

// pay is the customer paying at the checkout page: the payment succeeds
// and the provider tells the merchant, with a signed event.
func (p *Provider) pay(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	pay, ok := p.payments[r.PathValue("id")]
	if ok {
		pay.Status = "succeeded"
	}
	var copied Payment
	if ok {
		copied = *pay
	}
	p.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	d, err := p.Notify(r.Context(), copied)
	if err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"payment": copied, "webhook_status": d.Status, "webhook_answer": d.Answer})
}

// Event builds the payment.succeeded event for a payment, as sent.
func Event(pay Payment) []byte {
	b, _ := json.Marshal(map[string]any{
		"id": "evt_" + randomID(), "type": "payment.succeeded", "created": time.Now().Unix(),
		"data": map[string]any{"payment_id": pay.ID, "order_id": pay.OrderID, "amount_cents": pay.AmountCents, "currency": pay.Currency},
	})
	return b
}

// Signature is the header value for body at t: t=<unix>,v1=<hex> with one
// v1 per secret.
func Signature(t time.Time, body []byte, secrets ...[]byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	parts := []string{"t=" + ts}
	for _, s := range secrets {
		m := hmac.New(sha256.New, s)
		m.Write([]byte(ts + "."))
		m.Write(body)
		parts = append(parts, "v1="+hex.EncodeToString(m.Sum(nil)))
	}
	return strings.Join(parts, ",")
}

// Notify sends the signed payment.succeeded event for pay to the webhook.
func (p *Provider) Notify(ctx context.Context, pay Payment) (Delivery, error) {
	p.mu.Lock()
	secrets, webhook := p.secrets, p.webhook
	p.mu.Unlock()
	if webhook == "" {
		return Delivery{}, errors.New("fakepay: no webhook URL set")
	}
	body := Event(pay)
	d, err := Send(ctx, p.client, webhook, body, Signature(time.Now(), body, secrets...))
	p.mu.Lock()
	p.deliveries = append(p.deliveries, d)
	p.mu.Unlock()
	return d, err
}

// Send posts a webhook body with a signature header, as the provider does.
func Send(ctx context.Context, client *http.Client, webhookURL string, body []byte, signature string) (Delivery, error) {
	d := Delivery{Body: body, Signature: signature}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhookURL, bytes.NewReader(body))
	if err != nil {
		return d, fmt.Errorf("fakepay: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Bulwark-Signature", signature)
	resp, err := client.Do(req)
	if err != nil {
		return d, fmt.Errorf("fakepay: deliver: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	d.Status, d.Answer = resp.StatusCode, string(answer)
	return d, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randomID() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return string(b)
}
