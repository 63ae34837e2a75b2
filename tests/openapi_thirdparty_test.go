package tests

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/bulwark-dev/bulwark/tools/attack"
	"github.com/bulwark-dev/bulwark/tools/fakepay"
)

// thirdParty is what the third-party routes need to succeed in
// TestOpenAPIResponsesMatchTheDocument: the SSRF lab's public host, which
// the server may fetch, and the fake payment provider with its secret.
type thirdParty struct {
	lab      *attack.SSRFLab
	provider *fakepay.Provider
	secret   []byte
	env      map[string]string
}

func startThirdParty(t *testing.T) *thirdParty {
	t.Helper()
	lab := startLab(t)
	secret := randomKey()
	provider, err := fakepay.Start("127.0.0.1:0", "", secret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(provider.Close)
	env := ssrfEnv(t, lab, map[string]string{
		"PAYMENT_PROVIDER_URL":    provider.URL,
		"PAYMENT_WEBHOOK_SECRETS": "k1:" + base64.RawURLEncoding.EncodeToString(secret),
	})
	return &thirdParty{lab: lab, provider: provider, secret: secret, env: env}
}

// exercise drives the third-party routes through the conformance client:
// a success and the errors a client (or a provider) can provoke. It leaves
// the order paid.
func (tp *thirdParty) exercise(c *apiClient, token, orderID string) {
	c.t.Helper()
	imp := "/api/v1/orders/" + orderID + "/files/import"
	c.expect(201, "POST", imp, token, map[string]any{"url": tp.lab.PublicURL("/file.txt")})
	c.expect(400, "POST", imp, token, map[string]any{"url": tp.lab.MetadataURL("127.0.0.1")})
	c.expect(400, "POST", imp, token, map[string]any{"url": "ftp://example.com/"})
	c.expect(404, "POST", "/api/v1/orders/00000000-0000-4000-8000-000000000000/files/import", token, map[string]any{"url": tp.lab.PublicURL("/file.txt")})

	c.expect(201, "POST", "/api/v1/orders/"+orderID+"/pay", token, nil)
	var o struct {
		TotalCents int64 `json:"total_cents"`
	}
	c.decode(c.expect(200, "GET", "/api/v1/orders/"+orderID, token, nil), &o)
	good := event(newEventID(), orderID, o.TotalCents, "EUR")
	now := time.Now()
	tp.webhook(c, 401, good, fakepay.Signature(now, good, randomKey()))
	tp.webhook(c, 401, good, fakepay.Signature(now.Add(-time.Hour), good, tp.secret))
	malformed := []byte(`{"id":"evt_12345678","type":"payment.succeeded","data":{"amount_cents":"1"}}`)
	tp.webhook(c, 400, malformed, fakepay.Signature(now, malformed, tp.secret))
	short := event(newEventID(), orderID, o.TotalCents-1, "EUR")
	tp.webhook(c, 409, short, fakepay.Signature(now, short, tp.secret))
	tp.webhook(c, 200, good, fakepay.Signature(now, good, tp.secret))
	tp.webhook(c, 200, good, fakepay.Signature(now, good, tp.secret)) // duplicate
	c.expect(409, "POST", "/api/v1/orders/"+orderID+"/pay", token, nil)
}

// webhook posts a provider event with its signature header.
func (tp *thirdParty) webhook(c *apiClient, want int, body []byte, signature string) {
	c.t.Helper()
	req, _ := http.NewRequestWithContext(c.t.Context(), http.MethodPost, c.base+"/api/v1/webhooks/payments", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Bulwark-Signature", signature)
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		var p map[string]any
		_ = json.Unmarshal(b, &p)
		c.t.Fatalf("webhook: got %d, want %d: %v", resp.StatusCode, want, p)
	}
}
