package tests

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bulwark-dev/bulwark/tools/attack"
	"github.com/bulwark-dev/bulwark/tools/fakepay"
)

// payStage is a server with the fake provider beside it. The provider
// signs with the second of the server's two webhook secrets (PAYMENT_
// WEBHOOK_SECRETS="old:…,new:…"), as during a rotation; secret is that one.
type payStage struct {
	srv      *server
	provider *fakepay.Provider
	secret   []byte
	old      []byte
	alice    client
}

func randomKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}

func startPayStage(t *testing.T, env map[string]string) *payStage {
	t.Helper()
	old, secret := randomKey(), randomKey()
	provider, err := fakepay.Start("127.0.0.1:0", "", secret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(provider.Close)
	settings := map[string]string{
		"PAYMENT_PROVIDER_URL":    provider.URL,
		"PAYMENT_WEBHOOK_SECRETS": "old:" + base64.RawURLEncoding.EncodeToString(old) + ",new:" + base64.RawURLEncoding.EncodeToString(secret),
	}
	for k, v := range env {
		settings[k] = v
	}
	srv := startServer(t, settings)
	provider.SetWebhook(srv.URL + "/api/v1/webhooks/payments")
	srv.Target.Webhook = &attack.WebhookKey{ID: "new", Secret: secret}
	return &payStage{srv: srv, provider: provider, secret: secret, old: old, alice: login(t, srv, srv.Target.Alice.Email)}
}

// TestWebhookAttacks runs the catalogue's webhook attacks against the
// secure build: each must be BLOCKED.
func TestWebhookAttacks(t *testing.T) {
	for _, a := range attack.ByIssue("webhook") {
		t.Run(a.ID, func(t *testing.T) {
			st := startPayStage(t, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			res, err := a.Run(ctx, st.srv.Target)
			if err != nil {
				t.Fatalf("attack could not run: %v", err)
			}
			t.Logf("%s %s: %s", res.Verdict, a.ID, res.Evidence)
			if res.Verdict != attack.Blocked {
				t.Errorf("%s (%s, %s): %s\nevidence: %s", res.Verdict, a.OWASP, a.CWE, a.Story, res.Evidence)
			}
		})
	}
}

// order places an order for alice: "big" is 1 keyboard + 2 cables (11498
// cents), "small" one cable (1299).
func (st *payStage) order(t *testing.T, size string) (id string, total int64) {
	t.Helper()
	body := orderBody
	if size == "small" {
		body = `{"items":[{"product_id":"9e000000-0000-4000-8000-000000000004","quantity":1}],
"shipping_address":{"name":"Alice Example","line1":"1 Main Street","city":"Springfield","postal_code":"12345","country":"US"}}`
	}
	status, o := st.alice.do(http.MethodPost, "/api/v1/orders", body)
	if status != http.StatusCreated {
		t.Fatalf("create order: %d %v", status, o)
	}
	return o["id"].(string), int64(o["total_cents"].(float64))
}

// orderRow is an order as stored, read back from the database.
type orderRow struct {
	Status    string
	Reference string
	Updated   time.Time
}

func (st *payStage) stored(t *testing.T, id string) (orderRow, int) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), st.srv.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	var r orderRow
	if err := conn.QueryRow(t.Context(), `SELECT status, payment_reference, updated_at FROM orders WHERE id = $1`, id).Scan(&r.Status, &r.Reference, &r.Updated); err != nil {
		t.Fatal(err)
	}
	var events int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM payment_events WHERE order_id = $1`, id).Scan(&events); err != nil {
		t.Fatal(err)
	}
	return r, events
}

// event is a payment.succeeded event in the provider's format.
func event(id, orderID string, amount int64, currency string) []byte {
	return fmt.Appendf(nil, `{"id":%q,"type":"payment.succeeded","created":%d,"data":{"payment_id":"pay_%s","order_id":%q,"amount_cents":%d,"currency":%q}}`,
		id, time.Now().Unix(), strings.TrimPrefix(id, "evt_"), orderID, amount, currency)
}

func newEventID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return fmt.Sprintf("evt_%x", b)
}

type webhookAnswer struct {
	status int
	body   map[string]any
}

func (st *payStage) deliver(t *testing.T, body []byte, signature string) webhookAnswer {
	t.Helper()
	d, err := fakepay.Send(t.Context(), http.DefaultClient, st.srv.URL+"/api/v1/webhooks/payments", body, signature)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	_ = json.Unmarshal([]byte(d.Answer), &out)
	return webhookAnswer{status: d.Status, body: out}
}

// The whole flow through the fake provider: pay creates a checkout, the
// customer pays there, the provider's signed webhook marks the order
// paid, and a redelivery of that same event changes nothing.
func TestPaymentEndToEnd(t *testing.T) {
	st := startPayStage(t, nil)
	id, total := st.order(t, "big")
	status, co := st.alice.do(http.MethodPost, "/api/v1/orders/"+id+"/pay", "")
	if status != http.StatusCreated || !strings.HasPrefix(fmt.Sprint(co["checkout_url"]), st.provider.URL+"/checkout/pay_") {
		t.Fatalf("pay: %d %v", status, co)
	}
	if row, _ := st.stored(t, id); row.Status != "pending" {
		t.Fatalf("pay alone changed the order to %s; only the webhook may", row.Status)
	}
	// Asking twice gives the same payment (the idempotency key).
	if _, again := st.alice.do(http.MethodPost, "/api/v1/orders/"+id+"/pay", ""); again["payment_id"] != co["payment_id"] {
		t.Errorf("a second pay created another payment: %v then %v", co["payment_id"], again["payment_id"])
	}
	// The customer pays at the checkout page.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, fmt.Sprint(co["checkout_url"])+"/pay", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	deliveries := st.provider.Deliveries()
	if len(deliveries) != 1 || deliveries[0].Status != http.StatusOK || !strings.Contains(deliveries[0].Answer, `"processed"`) {
		t.Fatalf("the provider's webhook: %+v", deliveries)
	}
	row, events := st.stored(t, id)
	if row.Status != "paid" || row.Reference != co["payment_id"] || events != 1 {
		t.Fatalf("after the webhook: %+v with %d events, want paid with reference %v and 1 event", row, events, co["payment_id"])
	}
	if _, o := st.alice.do(http.MethodGet, "/api/v1/orders/"+id, ""); o["status"] != "paid" || o["total_cents"] != float64(total) {
		t.Errorf("alice sees %v", o)
	}
	// The provider delivers the same event again, as providers do.
	d := deliveries[0]
	if a := st.deliver(t, d.Body, d.Signature); a.status != http.StatusOK || a.body["status"] != "duplicate" {
		t.Errorf("redelivery: %d %v, want 200 duplicate", a.status, a.body)
	}
	if again, events := st.stored(t, id); again != row || events != 1 {
		t.Errorf("the redelivery changed the order: %+v → %+v, %d events", row, again, events)
	}
	// Paying a paid order is refused before the provider is called.
	if status, body := st.alice.do(http.MethodPost, "/api/v1/orders/"+id+"/pay", ""); status != http.StatusConflict {
		t.Errorf("pay a paid order: %d %v, want 409", status, body)
	}
}

// requireUnchanged fails when the order moved or an event was recorded.
func (st *payStage) requireUnchanged(t *testing.T, what, id string, before orderRow) {
	t.Helper()
	after, events := st.stored(t, id)
	if after != before || events != 0 {
		t.Errorf("%s changed the order: %+v → %+v, %d events recorded", what, before, after, events)
	}
}

// Only a signature by a current secret over this exact body and timestamp
// is believed; every other delivery is the same 401 and changes nothing.
func TestWebhookRequiresAValidSignature(t *testing.T) {
	st := startPayStage(t, nil)
	id, total := st.order(t, "big")
	before, _ := st.stored(t, id)
	body := event(newEventID(), id, total, "EUR")
	now := time.Now()
	other := event(newEventID(), id, total, "EUR")
	valid := fakepay.Signature(now, body, st.secret)
	_, v1, _ := strings.Cut(valid, ",")
	cases := []struct{ name, sig string }{
		{"no signature", ""},
		{"garbage", "garbage"},
		{"made-up v1", fmt.Sprintf("t=%d,v1=%064d", now.Unix(), 0)},
		{"someone else's secret", fakepay.Signature(now, body, randomKey())},
		{"signature of another body", fakepay.Signature(now, other, st.secret)},
		{"timestamp moved", fmt.Sprintf("t=%d,%s", now.Unix()+1, v1)},
		{"v0 scheme only", strings.Replace(valid, "v1=", "v0=", 1)},
		{"no timestamp", v1},
		{"truncated v1", valid[:len(valid)-2]},
		{"five v1 values", valid + strings.Repeat(","+v1, 4)},
	}
	for _, c := range cases {
		a := st.deliver(t, body, c.sig)
		if a.status != http.StatusUnauthorized || a.body["detail"] != "The webhook signature is missing, invalid or expired." {
			t.Errorf("%s: %d %v, want 401", c.name, a.status, a.body)
		}
	}
	// A body changed after signing: one byte of the amount.
	tampered := []byte(strings.Replace(string(body), fmt.Sprint(total), fmt.Sprint(total-1), 1))
	if a := st.deliver(t, tampered, valid); a.status != http.StatusUnauthorized {
		t.Errorf("tampered body: %d %v, want 401", a.status, a.body)
	}
	st.requireUnchanged(t, "a delivery without a valid signature", id, before)

	// Control, and rotation: the old secret still verifies.
	if a := st.deliver(t, body, fakepay.Signature(now, body, st.old)); a.status != http.StatusOK || a.body["status"] != "processed" {
		t.Fatalf("signed with the old secret during rotation: %d %v", a.status, a.body)
	}
}

// A captured event cannot be used later: the signed timestamp must be
// within five minutes of now, even for an event id never seen (the record
// of processed events does not last forever: pruning, a restore from
// backup).
func TestWebhookRefusesStaleTimestamps(t *testing.T) {
	st := startPayStage(t, nil)
	id, total := st.order(t, "big")
	before, _ := st.stored(t, id)
	for _, skew := range []time.Duration{-6 * time.Minute, -time.Hour, 6 * time.Minute} {
		body := event(newEventID(), id, total, "EUR")
		if a := st.deliver(t, body, fakepay.Signature(time.Now().Add(skew), body, st.secret)); a.status != http.StatusUnauthorized {
			t.Errorf("signed %s from now: %d %v, want 401", skew, a.status, a.body)
		}
	}
	st.requireUnchanged(t, "a stale event", id, before)
	body := event(newEventID(), id, total, "EUR")
	if a := st.deliver(t, body, fakepay.Signature(time.Now().Add(-4*time.Minute), body, st.secret)); a.status != http.StatusOK {
		t.Fatalf("control: signed 4 minutes ago: %d %v, want 200", a.status, a.body)
	}
}

// Each event id is acted on once: a redelivery or a replay within the
// window is a 200 that changes nothing, even after the order has moved on
// (cancelled), and racing duplicates pay once.
func TestWebhookProcessesEachEventOnce(t *testing.T) {
	st := startPayStage(t, nil)
	id, total := st.order(t, "big")
	body := event(newEventID(), id, total, "EUR")
	sig := fakepay.Signature(time.Now(), body, st.secret)
	if a := st.deliver(t, body, sig); a.body["status"] != "processed" {
		t.Fatalf("first delivery: %d %v", a.status, a.body)
	}
	if status, o := st.alice.do(http.MethodPost, "/api/v1/orders/"+id+"/cancel", ""); status != http.StatusOK {
		t.Fatalf("cancel: %d %v", status, o)
	}
	cancelled, _ := st.stored(t, id)
	if a := st.deliver(t, body, sig); a.status != http.StatusOK || a.body["status"] != "duplicate" {
		t.Errorf("replay after cancel: %d %v, want 200 duplicate", a.status, a.body)
	}
	if after, events := st.stored(t, id); after != cancelled || events != 1 {
		t.Errorf("the replay changed the order: %+v → %+v, %d events", cancelled, after, events)
	}

	// Five deliveries of one event at once: one is processed.
	id2, total2 := st.order(t, "small")
	body2 := event(newEventID(), id2, total2, "EUR")
	sig2 := fakepay.Signature(time.Now(), body2, st.secret)
	var wg sync.WaitGroup
	answers := make([]webhookAnswer, 5)
	for i := range answers {
		wg.Go(func() { answers[i] = st.deliver(t, body2, sig2) })
	}
	wg.Wait()
	processed := 0
	for _, a := range answers {
		switch {
		case a.status == http.StatusOK && a.body["status"] == "processed":
			processed++
		case a.status == http.StatusOK && a.body["status"] == "duplicate":
		default:
			t.Errorf("a racing duplicate: %d %v", a.status, a.body)
		}
	}
	if row, events := st.stored(t, id2); processed != 1 || row.Status != "paid" || events != 1 {
		t.Errorf("%d processed, order %+v, %d events; want 1, paid, 1", processed, row, events)
	}
}

// An authentic event pays an order only when the order is pending and the
// amount and currency are exactly its total; otherwise 409, nothing
// changed, nothing recorded.
func TestWebhookAmountMustMatchTheOrder(t *testing.T) {
	st := startPayStage(t, nil)
	big, total := st.order(t, "big")
	_, small := st.order(t, "small")
	cancelled, cancelledTotal := st.order(t, "small")
	if status, o := st.alice.do(http.MethodPost, "/api/v1/orders/"+cancelled+"/cancel", ""); status != http.StatusOK {
		t.Fatalf("cancel: %d %v", status, o)
	}
	before, _ := st.stored(t, big)
	cases := []struct {
		name, order string
		amount      int64
		currency    string
	}{
		{"a cheaper order's amount", big, small, "EUR"},
		{"one cent short", big, total - 1, "EUR"},
		{"one cent over", big, total + 1, "EUR"},
		{"another currency", big, total, "USD"},
		{"lower-case currency", big, total, "eur"},
		{"a cancelled order", cancelled, cancelledTotal, "EUR"},
		{"no such order", "00000000-0000-4000-8000-000000000000", total, "EUR"},
	}
	for _, c := range cases {
		body := event(newEventID(), c.order, c.amount, c.currency)
		a := st.deliver(t, body, fakepay.Signature(time.Now(), body, st.secret))
		want := http.StatusConflict
		if c.currency == "eur" {
			want = http.StatusBadRequest // refused by the parser before the order is looked at
		}
		if a.status != want {
			t.Errorf("%s: %d %v, want %d", c.name, a.status, a.body, want)
		}
	}
	st.requireUnchanged(t, "a mismatched event", big, before)
	if row, events := st.stored(t, cancelled); row.Status != "cancelled" || events != 0 {
		t.Errorf("the cancelled order: %+v, %d events", row, events)
	}
	body := event(newEventID(), big, total, "EUR")
	if a := st.deliver(t, body, fakepay.Signature(time.Now(), body, st.secret)); a.status != http.StatusOK {
		t.Fatalf("control: the exact total: %d %v", a.status, a.body)
	}
}

// A signed body is still third-party data: parsed for the fields used,
// each in its exact type, bounded in size.
func TestWebhookParsesThePayloadStrictly(t *testing.T) {
	st := startPayStage(t, nil)
	id, total := st.order(t, "big")
	before, _ := st.stored(t, id)
	good := string(event(newEventID(), id, total, "EUR"))
	amount := fmt.Sprintf(`"amount_cents":%d`, total)
	cases := map[string]string{
		"amount as a string":   strings.Replace(good, amount, fmt.Sprintf(`"amount_cents":"%d"`, total), 1),
		"amount as a float":    strings.Replace(good, amount, fmt.Sprintf(`"amount_cents":%d.5`, total), 1),
		"amount twice":         strings.Replace(good, amount, amount+`,"amount_cents":1`, 1),
		"negative amount":      strings.Replace(good, amount, `"amount_cents":-5`, 1),
		"no data":              fmt.Sprintf(`{"id":%q,"type":"payment.succeeded"}`, newEventID()),
		"order id not a uuid":  strings.Replace(good, id, "1 OR 1=1", 1),
		"bad event id":         strings.Replace(good, `"id":"evt_`, `"id":"evt_../`, 1),
		"trailing data":        good + `{"id":"evt_second"}`,
		"not JSON":             "<xml/>",
		"re-cased member name": strings.Replace(good, `"amount_cents"`, `"Amount_Cents"`, 1),
	}
	for name, body := range cases {
		a := st.deliver(t, []byte(body), fakepay.Signature(time.Now(), []byte(body), st.secret))
		if a.status != http.StatusBadRequest {
			t.Errorf("%s: %d %v, want 400", name, a.status, a.body)
		}
	}
	huge := []byte(strings.Replace(good, `"type"`, `"padding":"`+strings.Repeat("x", 70<<10)+`","type"`, 1))
	if a := st.deliver(t, huge, fakepay.Signature(time.Now(), huge, st.secret)); a.status != http.StatusRequestEntityTooLarge {
		t.Errorf("a 70 KiB event: %d %v, want 413", a.status, a.body)
	}
	st.requireUnchanged(t, "a malformed event", id, before)
	// Unknown fields and unknown types are the provider's business.
	other := fmt.Sprintf(`{"id":%q,"type":"payment.refunded","livemode":false,"data":{}}`, newEventID())
	if a := st.deliver(t, []byte(other), fakepay.Signature(time.Now(), []byte(other), st.secret)); a.status != http.StatusOK || a.body["status"] != "ignored" {
		t.Errorf("an unknown event type: %d %v, want 200 ignored", a.status, a.body)
	}
	extra := strings.Replace(good, `"type"`, `"livemode":false,"type"`, 1)
	if a := st.deliver(t, []byte(extra), fakepay.Signature(time.Now(), []byte(extra), st.secret)); a.status != http.StatusOK || a.body["status"] != "processed" {
		t.Errorf("control: an extra field: %d %v, want 200 processed", a.status, a.body)
	}
}

// Whatever the provider does wrong, the customer gets a 503 problem and
// the order is exactly as it was.
func TestPayWithAFailingProvider(t *testing.T) {
	st := startPayStage(t, nil)
	id, _ := st.order(t, "big")
	before, _ := st.stored(t, id)
	for _, f := range []fakepay.Fault{fakepay.Error, fakepay.Garbage, fakepay.Huge, fakepay.Redirect, fakepay.BadURL, fakepay.Hang} {
		st.provider.SetFault(f)
		start := time.Now()
		status, body := st.alice.do(http.MethodPost, "/api/v1/orders/"+id+"/pay", "")
		t.Logf("%-8s → %d in %s %v", f, status, time.Since(start).Round(time.Millisecond), body)
		if status != http.StatusServiceUnavailable || body["detail"] != "The payment provider is not available; retry shortly." {
			t.Errorf("provider fault %q: %d %v, want 503", f, status, body)
		}
		if f == fakepay.Hang && time.Since(start) > 8*time.Second {
			t.Errorf("a hanging provider held the request %s", time.Since(start))
		}
	}
	st.requireUnchanged(t, "a failed payment", id, before)
	st.provider.SetFault(fakepay.None)
	if status, body := st.alice.do(http.MethodPost, "/api/v1/orders/"+id+"/pay", ""); status != http.StatusCreated {
		t.Errorf("control: the provider back to normal: %d %v", status, body)
	}
}

// Without a provider configured, pay is a 503 and nothing else changes.
func TestPayWithoutAProvider(t *testing.T) {
	srv := startServer(t, nil)
	alice := login(t, srv, srv.Target.Alice.Email)
	status, body := alice.do(http.MethodPost, "/api/v1/orders/"+aliceOrder+"/pay", "")
	if status != http.StatusServiceUnavailable || body["detail"] != "Payments are not available." {
		t.Errorf("pay with no provider: %d %v", status, body)
	}
}
