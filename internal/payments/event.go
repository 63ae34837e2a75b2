package payments

import (
	"fmt"
	"regexp"

	"github.com/go-json-experiment/json"
	"github.com/google/uuid"

	"github.com/bulwark-dev/bulwark/internal/web"
)

// ErrBadEvent is the answer for a signed body that is not an event this
// service understands.
const ErrBadEvent = web.Invalid("The event is not a valid payment event.")

// MaxEventBytes bounds a webhook body: the provider's events are a few
// hundred bytes.
const MaxEventBytes = 64 << 10

// EventPaymentSucceeded is the one event type that changes anything.
const EventPaymentSucceeded = "payment.succeeded"

// Event is a provider event, as far as this service uses it.
type Event struct {
	ID          string
	Type        string
	PaymentID   string
	OrderID     uuid.UUID
	AmountCents int64
	Currency    string
}

// wireEvent is the provider's JSON. Only the fields used are declared;
// others are ignored, because a provider adds fields without notice and
// refusing them would stop payments on the day it does. Everything
// declared is checked: types are exact (an amount of 12.5 or "1250" is an
// error, not a conversion), a duplicated name is an error (two parsers
// could each pick a different one), and trailing data is an error.
type wireEvent struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Data struct {
		PaymentID   string `json:"payment_id"`
		OrderID     string `json:"order_id"`
		AmountCents int64  `json:"amount_cents"`
		Currency    string `json:"currency"`
	} `json:"data"`
}

var (
	eventID   = regexp.MustCompile(`^evt_[A-Za-z0-9]{8,64}$`) //nolint:gochecknoglobals // compiled once, read-only.
	paymentID = regexp.MustCompile(`^pay_[A-Za-z0-9]{8,64}$`) //nolint:gochecknoglobals // compiled once, read-only.
	currency  = regexp.MustCompile(`^[A-Z]{3}$`)              //nolint:gochecknoglobals // compiled once, read-only.
)

// maxAmountCents is far above any order's total, and far below overflow.
const maxAmountCents = 1 << 40

// ParseEvent decodes a verified body. A payment.succeeded event must carry
// every field the transition uses, each in its exact shape; any other type
// needs only its id and type, since nothing of it is used.
func ParseEvent(body []byte) (Event, error) {
	var w wireEvent
	if err := json.Unmarshal(body, &w); err != nil {
		return Event{}, fmt.Errorf("decode event: %w: %w", err, ErrBadEvent)
	}
	if !eventID.MatchString(w.ID) || w.Type == "" || len(w.Type) > 64 {
		return Event{}, fmt.Errorf("event id %q type %q: %w", clip(w.ID), clip(w.Type), ErrBadEvent)
	}
	ev := Event{ID: w.ID, Type: w.Type}
	if w.Type != EventPaymentSucceeded {
		return ev, nil
	}
	d := w.Data
	order, err := uuid.Parse(d.OrderID)
	switch {
	case !paymentID.MatchString(d.PaymentID):
		return Event{}, fmt.Errorf("event %s: payment id %q: %w", w.ID, clip(d.PaymentID), ErrBadEvent)
	case err != nil || len(d.OrderID) != 36:
		return Event{}, fmt.Errorf("event %s: order id %q: %w", w.ID, clip(d.OrderID), ErrBadEvent)
	case d.AmountCents <= 0 || d.AmountCents > maxAmountCents:
		return Event{}, fmt.Errorf("event %s: amount %d: %w", w.ID, d.AmountCents, ErrBadEvent)
	case !currency.MatchString(d.Currency):
		return Event{}, fmt.Errorf("event %s: currency %q: %w", w.ID, clip(d.Currency), ErrBadEvent)
	}
	ev.PaymentID, ev.OrderID, ev.AmountCents, ev.Currency = d.PaymentID, order, d.AmountCents, d.Currency
	return ev, nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
