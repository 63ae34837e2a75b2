package payments

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/google/uuid"

	"github.com/bulwark-dev/bulwark/internal/outbound"
	"github.com/bulwark-dev/bulwark/internal/web"
)

// ErrProviderDown is the answer whenever the provider fails: it is down,
// slow, answers an error, or answers something that is not a payment. The
// order is unchanged, so the customer can simply try again.
const ErrProviderDown = web.Unavailable("The payment provider is not available; retry shortly.")

// ErrPaymentsOff is the answer when no provider is configured
// (PAYMENT_PROVIDER_URL).
const ErrPaymentsOff = web.Unavailable("Payments are not available.")

// providerTimeout bounds a call to the provider, connect to last byte. It
// fits well inside the request's own deadline (REQUEST_TIMEOUT, 10 s by
// default), so the customer gets a 503, not a request timeout.
const providerTimeout = 5 * time.Second

// maxProviderAnswer bounds what is read of the provider's answer; a
// payment is a few hundred bytes.
const maxProviderAnswer = 16 << 10

// Checkout is a payment created at the provider: its id, and where the
// customer completes it.
type Checkout struct {
	PaymentID   string
	CheckoutURL string
}

// Provider is the payment provider's API.
type Provider struct {
	base   *url.URL
	client *http.Client
}

// NewProvider returns the provider at baseURL (checked by config:
// https, or http on loopback in development), or nil when baseURL is
// empty.
func NewProvider(baseURL string) (*Provider, error) {
	if baseURL == "" {
		return nil, nil //nolint:nilnil // no provider configured: payments are off.
	}
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("payment provider url: %w", err)
	}
	return &Provider{base: u, client: outbound.NewAPIClient(providerTimeout)}, nil
}

type createPaymentRequest struct {
	OrderID     string `json:"order_id"`
	AmountCents int64  `json:"amount_cents"`
	Currency    string `json:"currency"`
}

// createPaymentAnswer is the provider's answer, as far as it is used;
// unknown fields are ignored (the provider adds fields), the rest is exact.
type createPaymentAnswer struct {
	ID          string `json:"id"`
	CheckoutURL string `json:"checkout_url"`
}

// CreatePayment asks the provider for a payment of the order's total. The
// idempotency key is the order id, so a retry after a timeout returns the
// same payment instead of a second one.
func (p *Provider) CreatePayment(ctx context.Context, orderID uuid.UUID, amountCents int64, currency string) (Checkout, error) {
	body, err := json.Marshal(createPaymentRequest{OrderID: orderID.String(), AmountCents: amountCents, Currency: currency})
	if err != nil {
		return Checkout{}, fmt.Errorf("encode payment: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base.JoinPath("/v1/payments").String(), bytes.NewReader(body))
	if err != nil {
		return Checkout{}, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "order-"+orderID.String())
	resp, err := p.client.Do(req)
	if err != nil {
		return Checkout{}, fmt.Errorf("create payment: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return Checkout{}, fmt.Errorf("create payment: the provider answered %d", resp.StatusCode)
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return Checkout{}, fmt.Errorf("create payment: the provider answered %q, not JSON", resp.Header.Get("Content-Type"))
	}
	raw, err := outbound.ReadAll(resp.Body, maxProviderAnswer)
	if err != nil {
		return Checkout{}, fmt.Errorf("create payment: %w", err)
	}
	var a createPaymentAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		return Checkout{}, fmt.Errorf("create payment: decode the answer: %w", err)
	}
	if !paymentID.MatchString(a.ID) {
		return Checkout{}, fmt.Errorf("create payment: payment id %q", clip(a.ID))
	}
	if err := p.checkCheckoutURL(a.CheckoutURL); err != nil {
		return Checkout{}, fmt.Errorf("create payment %s: %w", a.ID, err)
	}
	return Checkout{PaymentID: a.ID, CheckoutURL: a.CheckoutURL}, nil
}

// checkCheckoutURL: the URL goes to the customer, who opens it, so it must
// be an https page (a javascript: or data: URL from a compromised provider
// would run in the customer's browser). http only when the provider itself
// is on http, the loopback fake of development.
func (p *Provider) checkCheckoutURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || len(raw) > 2048 || u.Host == "" || u.User != nil:
		return fmt.Errorf("checkout url %q is not a URL", clip(raw))
	case u.Scheme == "https", u.Scheme == "http" && p.base.Scheme == "http":
		return nil
	}
	return fmt.Errorf("checkout url %q is not https", clip(raw))
}
