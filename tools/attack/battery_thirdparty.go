package attack

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The battery's cases for the two third-party boundaries: an operation
// whose permission is the payment provider's signature (SignedWebhook),
// and the valid request of importFile, which only a URL the server may
// fetch makes.

// policySignedWebhook is the policy of a route the payment provider calls:
// no token, its Bulwark-Signature over the raw body is the permission.
const policySignedWebhook = "SignedWebhook"

// signatureHeader carries a webhook's signature, t=<unix>,v1=<hex>.
const signatureHeader = "Bulwark-Signature"

func signedWebhook(policy string) bool { return policy == policySignedWebhook }

// errNoWebhookSecret is why a webhook case that must be correctly signed
// did not run.
var errNoWebhookSecret = fmt.Errorf("%w: needs the payment provider's webhook secret to sign the event (-webhook-secret)", errSkip) //nolint:gochecknoglobals // sentinel.

// errNoImportURL is why importFile's cases did not run.
var errNoImportURL = fmt.Errorf("%w: needs a URL the server may fetch (BatteryOptions.ImportURL, -import-url): no body the battery could make up is one the server would fetch", errSkip) //nolint:gochecknoglobals // sentinel.

// unable is the outcome of a case whose set-up failed: SKIPPED when it
// lacks something the run was not given, else it could not run.
func unable(err error) caseOutcome {
	if errors.Is(err, errSkip) {
		return skip("%s", strings.TrimPrefix(err.Error(), errSkip.Error()+": "))
	}
	return cannot("%v", err)
}

// payingOrder is the order the next webhook body names, and the amount it
// says was paid.
type payingOrder struct {
	id       string
	cents    int64
	currency string
}

// webhookCall is a signed payment.succeeded event for one of alice's
// orders (a fresh one for the success case, which pays it), with the
// order's read-back. A success pays the exact total. A probe pays one
// cent more, which a correct server answers 409 and records nothing: a
// mutation it wrongly accepted then does no lasting harm, and still shows
// as an answer that is not the expected one. A forgery pays the exact
// total of alice's shared order, so a server that skipped the signature
// check would pay it, and the read-back shows it.
func (b *battery) webhookCall(ctx context.Context, o *operation, fresh bool, p purpose) (call, error) {
	if b.t.Webhook == nil && p != forForgery {
		return call{}, errNoWebhookSecret
	}
	reader := b.byID["getOrder"]
	if reader == nil {
		return call{}, fmt.Errorf("the document has no getOrder to create and read back the order a payment event for %s names", o)
	}
	id, err := b.resource(ctx, reader, "id", fresh)
	if err != nil {
		return call{}, err
	}
	check := call{o: reader, as: &b.alice, path: map[string]string{"id": id}}
	x, err := b.send(ctx, check)
	if err != nil {
		return call{}, err
	}
	var ord struct {
		Total    int64  `json:"total_cents"`
		Currency string `json:"currency"`
	}
	if x.status != http.StatusOK || json.Unmarshal(x.body, &ord) != nil || ord.Total <= 0 {
		return call{}, fmt.Errorf("control: read the order the event names: %s", brief(x))
	}
	b.paying = payingOrder{id: id, cents: ord.Total, currency: ord.Currency}
	if p == forProbe {
		b.paying.cents++
	}
	body, err := json.Marshal(b.bodyFor(o, p))
	if err != nil {
		return call{}, err
	}
	c := call{o: o, path: map[string]string{}, body: string(body), check: &check}
	if b.t.Webhook != nil {
		c.sign = func(body string) string { return b.t.signWebhook(time.Now(), []byte(body)) }
	}
	return c, nil
}

// signatureCases are the "auth" family of a SignedWebhook operation: the
// signature is its permission, so an event with none, a made-up one, one
// made with another secret, a correct one that is stale, or a correct one
// over another body must each be 401, and the order it names unchanged.
// The event is otherwise valid (alice's order, its exact total): a server
// that skipped the check would pay it. The last two need the secret.
func (b *battery) signatureCases(o *operation) []batteryCase {
	if !signedWebhook(o.policy) || o.body == nil {
		return nil
	}
	sign := func(secret []byte, at time.Time, body string) string {
		return (&Target{Webhook: &WebhookKey{Secret: secret}}).signWebhook(at, []byte(body))
	}
	forgeries := []struct {
		name       string
		needSecret bool
		forge      func(c *call)
	}{
		{"no-signature", false, func(c *call) { c.sign = nil }},
		{"made-up-signature", false, func(c *call) {
			c.sign = func(string) string {
				return fmt.Sprintf("t=%d,v1=%s", time.Now().Unix(), hex.EncodeToString([]byte(randomToken(24))[:32]))
			}
		}},
		{"other-secret", false, func(c *call) {
			c.sign = func(body string) string {
				return sign([]byte("battery-attacker-chosen-secret-0123456789"), time.Now(), body)
			}
		}},
		{"stale-timestamp", true, func(c *call) {
			c.sign = func(body string) string { return sign(b.t.Webhook.Secret, time.Now().Add(-time.Hour), body) }
		}},
		{"signature-of-other-body", true, func(c *call) {
			// The provider genuinely signed an event one cent short; the
			// attacker sends the full amount under that signature.
			var ev map[string]any
			_ = json.Unmarshal([]byte(c.body), &ev)
			if data, ok := ev["data"].(map[string]any); ok {
				if v, ok := data["amount_cents"].(float64); ok {
					data["amount_cents"] = v - 1
				}
			}
			other, _ := json.Marshal(ev)
			c.sign = func(string) string { return sign(b.t.Webhook.Secret, time.Now(), string(other)) }
		}},
	}
	cases := make([]batteryCase, 0, len(forgeries))
	for _, f := range forgeries {
		cases = append(cases, batteryCase{row: o.id, name: "auth/" + f.name, scarce: b.scarce(o), run: func(ctx context.Context) caseOutcome {
			if f.needSecret && b.t.Webhook == nil {
				return unable(errNoWebhookSecret)
			}
			c, err := b.validCall(ctx, o, false, forForgery)
			if err != nil {
				return unable(err)
			}
			f.forge(&c)
			return b.refusedWrite(ctx, c, func(x *exchange) string {
				if x.status != http.StatusUnauthorized {
					return fmt.Sprintf("answered %d, not 401", x.status)
				}
				return ""
			})
		}})
	}
	return cases
}

// additiveMutation reports whether a body mutation only adds a member
// (unknown, read-only, nested-unknown) rather than changing or renaming
// one the body needs.
func additiveMutation(name string) bool {
	for _, prefix := range []string{"unknown/", "read-only/", "nested-unknown/"} {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

// webhookBodyCase is a body mutation of a SignedWebhook operation, held to
// the contract the document gives the provider's events rather than to the
// one for clients' requests. The event is the provider's format, which
// grows without notice, so the server reads it tolerantly and the document
// says so (PaymentEvent: "others are ignored", additionalProperties: true):
// a member it adds must be ignored, that is the answer is the one the same
// event without it gets (the probe's 409: one cent short), and nothing is
// written. A member changed to the wrong type, or renamed by case (names
// are case-sensitive), leaves the event unusable: a 400, nothing written.
// That 400 is internal/payments.ErrBadEvent, one answer for any event it
// cannot use, whose reader is the provider's delivery log, not a form; so
// it is not required to name the member, as a client's 400 is.
func (b *battery) webhookBodyCase(ctx context.Context, o *operation, m bodyMutation) caseOutcome {
	c, err := b.validCall(ctx, o, false, forProbe)
	if err != nil {
		return unable(err)
	}
	body := b.bodyFor(o, forProbe)
	if !m.apply(body) {
		return cannot("the valid body has no %s to change", m.field)
	}
	mutated, err := marshalBody(body)
	if err != nil {
		return cannot("%v", err)
	}
	want := http.StatusBadRequest
	if additiveMutation(m.name) {
		base, err := b.send(ctx, c)
		if err != nil {
			return cannot("%v", err)
		}
		if base.status/100 == 2 {
			return cannot("control: the unmutated probe (one cent short) was accepted: %s", brief(base))
		}
		want = base.status
	}
	c.body = mutated
	return b.refusedWrite(ctx, c, func(x *exchange) string {
		if x.status != want {
			if want == http.StatusBadRequest {
				return fmt.Sprintf("answered %d, not 400", x.status)
			}
			return fmt.Sprintf("answered %d, not the %d of the same event without %s: the member was not ignored", x.status, want, m.field)
		}
		return ""
	})
}

// webhookProcessed checks the success case of a SignedWebhook operation:
// the event was acted on (status processed) and its order reads back paid.
func (b *battery) webhookProcessed(ctx context.Context, c call, x *exchange) string {
	var res struct {
		Status string `json:"status"`
	}
	if json.Unmarshal(x.body, &res) != nil || res.Status != "processed" {
		return "a valid event for a pending order with its exact total was not processed"
	}
	if c.check == nil {
		return ""
	}
	after, err := b.readBack(ctx, *c.check)
	if err != nil {
		return err.Error()
	}
	var ord struct {
		Status string `json:"status"`
	}
	if json.Unmarshal(after, &ord) != nil || ord.Status != "paid" {
		return "the event was processed but its order reads back " + strconv.Quote(clip(string(after), 200))
	}
	return ""
}
