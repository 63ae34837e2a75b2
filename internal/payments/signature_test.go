package payments

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-dev/bulwark/internal/web"
)

func TestVerify(t *testing.T) {
	old, current := []byte(strings.Repeat("o", 32)), []byte(strings.Repeat("c", 32))
	now := time.Unix(1_800_000_000, 0)
	v := NewVerifier([][]byte{old, current})
	v.now = func() time.Time { return now }
	body := []byte(`{"id":"evt_12345678"}`)
	valid := Sign(current, now, body)
	_, v1, _ := strings.Cut(valid, ",")
	tests := []struct {
		name   string
		header string
		body   []byte
		ok     bool
	}{
		{"current secret", valid, body, true},
		{"old secret, during rotation", Sign(old, now, body), body, true},
		{"both secrets, as the provider sends while rotating", valid + "," + strings.TrimPrefix(Sign(old, now, body), fmt.Sprintf("t=%d,", now.Unix())), body, true},
		{"4 minutes old", Sign(current, now.Add(-4*time.Minute), body), body, true},
		{"6 minutes old", Sign(current, now.Add(-6*time.Minute), body), body, false},
		{"6 minutes ahead", Sign(current, now.Add(6*time.Minute), body), body, false},
		{"another secret", Sign([]byte(strings.Repeat("x", 32)), now, body), body, false},
		{"body changed", valid, []byte(`{"id":"evt_12345679"}`), false},
		{"body re-encoded with a space", valid, []byte(`{"id": "evt_12345678"}`), false},
		{"timestamp moved", fmt.Sprintf("t=%d,%s", now.Unix()-1, v1), body, false},
		{"empty", "", body, false},
		{"no t", v1, body, false},
		{"no v1", fmt.Sprintf("t=%d", now.Unix()), body, false},
		{"t twice", fmt.Sprintf("t=%d,t=%d,%s", now.Unix(), now.Unix(), v1), body, false},
		{"t not digits", "t=1e9," + v1, body, false},
		{"v1 short", valid[:len(valid)-2], body, false},
		{"v1 upper-case hex", strings.ToUpper(valid), body, false},
		{"too many v1", valid + strings.Repeat(","+v1, 4), body, false},
		{"huge header", valid + "," + strings.Repeat("x", 2000), body, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.Verify(tt.header, tt.body)
			if tt.ok != (err == nil) {
				t.Fatalf("Verify = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && web.StatusOf(err) != 401 {
				t.Errorf("status %d, want 401", web.StatusOf(err))
			}
			if err != nil && !errors.Is(err, ErrSignature) {
				t.Errorf("%v is not ErrSignature", err)
			}
		})
	}
}

func TestParseEvent(t *testing.T) {
	const order = "0de00000-0000-4000-8000-00000000a001"
	good := `{"id":"evt_abcdefgh","type":"payment.succeeded","data":{"payment_id":"pay_abcdefgh","order_id":"` + order + `","amount_cents":11498,"currency":"EUR"}}`
	ev, err := ParseEvent([]byte(good))
	if err != nil || ev.AmountCents != 11498 || ev.OrderID.String() != order || ev.PaymentID != "pay_abcdefgh" || ev.Currency != "EUR" {
		t.Fatalf("good event: %+v %v", ev, err)
	}
	for name, body := range map[string]string{
		"amount string":    strings.Replace(good, `11498`, `"11498"`, 1),
		"amount float":     strings.Replace(good, `11498`, `11498.0`, 1),
		"amount huge":      strings.Replace(good, `11498`, `99999999999999999999`, 1),
		"amount zero":      strings.Replace(good, `11498`, `0`, 1),
		"duplicate member": strings.Replace(good, `"currency":"EUR"`, `"currency":"EUR","currency":"USD"`, 1),
		"re-cased member":  strings.Replace(good, `"order_id"`, `"Order_ID"`, 1),
		"braced uuid":      strings.Replace(good, order, "{"+order+"}", 1),
		"urn uuid":         strings.Replace(good, `"`+order, `"urn:uuid:`+order, 1),
		"currency lower":   strings.Replace(good, `EUR`, `eur`, 1),
		"payment id":       strings.Replace(good, `pay_abcdefgh`, `pay_<script>`, 1),
		"trailing":         good + " {}",
		"array":            `[` + good + `]`,
		"invalid UTF-8":    strings.Replace(good, `EUR`, "E\xffR", 1),
	} {
		if _, err := ParseEvent([]byte(body)); !errors.Is(err, ErrBadEvent) {
			t.Errorf("%s: %v, want ErrBadEvent", name, err)
		}
	}
	if ev, err := ParseEvent([]byte(`{"id":"evt_abcdefgh","type":"charge.refunded","data":{"anything":[1,2]}}`)); err != nil || ev.Type != "charge.refunded" {
		t.Errorf("another type: %+v %v, want it parsed for its id and type only", ev, err)
	}
}
