package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/web"
)

// benchOrder is shaped like a real order request: nested objects and a
// slice whose elements are validated by dive.
type benchOrder struct {
	Items    []orderItem `json:"items" validate:"required,min=1,max=50,dive"`
	Shipping shipping    `json:"shipping" validate:"required"`
	Note     string      `json:"note" validate:"max=1000,safetext"`
}

// BenchmarkStrictBind is the cost of strict JSON decoding (unknown fields
// and trailing data refused) plus validation all the way down, for a
// typical order body and for one refused for an unknown nested field.
func BenchmarkStrictBind(b *testing.B) {
	e := echo.New()
	binder := web.StrictJSONBinder{Validator: web.NewValidator()}
	valid := `{"items":[{"sku":"BOOK-1","quantity":2},{"sku":"PEN-7","quantity":10},{"sku":"MUG-3","quantity":1}],` +
		`"shipping":{"city":"Berlin"},"note":"Leave it with the neighbour."}`
	unknown := `{"items":[{"sku":"BOOK-1","quantity":2,"price":0}],"shipping":{"city":"Berlin"}}`
	cases := []struct {
		name, body string
		wantErr    bool
	}{
		{"valid", valid, false},
		{"unknown-nested-field", unknown, true},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/orders", strings.NewReader(tc.body))
				req.Header.Set("Content-Type", "application/json")
				c := e.NewContext(req, httptest.NewRecorder())
				var dst benchOrder
				if err := binder.Bind(c, &dst); (err != nil) != tc.wantErr {
					b.Fatalf("bind: %v", err)
				}
			}
		})
	}
}
