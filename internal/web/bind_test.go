package web_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/web"
)

// The DTO has the shapes that matter for mass assignment and nested
// validation: a nested struct, and a slice whose elements are validated by
// dive.
type orderItem struct {
	SKU      string `json:"sku" validate:"required,max=20,safetext"`
	Quantity int32  `json:"quantity" validate:"min=1,max=100"`
}

type shipping struct {
	City string `json:"city" validate:"required,max=50,safetext"`
}

type orderRequest struct {
	Name     string      `json:"name" validate:"required,max=100,safetext"`
	Shipping shipping    `json:"shipping" validate:"required"`
	Items    []orderItem `json:"items" validate:"required,min=1,max=10,dive"`
}

const validOrder = `{"name":"Zoë Ångström","shipping":{"city":"Köln"},"items":[{"sku":"A1","quantity":2},{"sku":"B2","quantity":1}]}`

func newBindingEcho() *echo.Echo {
	e := echo.New()
	e.Binder = web.StrictJSONBinder{Validator: web.NewValidator()}
	return e
}

// bind runs c.Bind on a request with the given Content-Type ("" sends none).
func bind(t *testing.T, contentType, body string) (orderRequest, error) {
	t.Helper()
	e := newBindingEcho()
	req := httptest.NewRequest(http.MethodPost, "/orders", strings.NewReader(body))
	if contentType != "" {
		req.Header.Set(echo.HeaderContentType, contentType)
	}
	var dst orderRequest
	err := e.NewContext(req, httptest.NewRecorder()).Bind(&dst)
	return dst, err
}

func TestStrictJSONBinderAcceptsValidBody(t *testing.T) {
	for _, contentType := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON; charset=UTF-8"} {
		t.Run(contentType, func(t *testing.T) {
			got, err := bind(t, contentType, validOrder)
			if err != nil {
				t.Fatalf("Bind: %v", err)
			}
			want := orderRequest{
				Name:     "Zoë Ångström",
				Shipping: shipping{City: "Köln"},
				Items:    []orderItem{{SKU: "A1", Quantity: 2}, {SKU: "B2", Quantity: 1}},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("bound value (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStrictJSONBinderRejectsUnsupportedMediaType(t *testing.T) {
	for _, contentType := range []string{
		"", // missing
		"text/plain",
		"text/plain; charset=utf-8",
		"application/x-www-form-urlencoded",
		"multipart/form-data; boundary=x",
		"application/json; charset=latin1",
		"application/json; charset=utf-8; evil=1",
		"application/jsonx",
		"application/json-patch+json",
	} {
		t.Run(contentType, func(t *testing.T) {
			_, err := bind(t, contentType, validOrder)
			if got := web.StatusOf(err); got != http.StatusUnsupportedMediaType {
				t.Errorf("Bind error %v answers %d, want 415", err, got)
			}
		})
	}
}

func TestStrictJSONBinderFieldErrors(t *testing.T) {
	const wrongType = "has the wrong type or is out of range"
	const unknown = "is not a known field"
	tests := []struct {
		name string
		body string
		want []web.FieldError
	}{
		{
			name: "unknown top-level field",
			body: `{"name":"a","role":"admin","shipping":{"city":"c"},"items":[{"sku":"s","quantity":1}]}`,
			want: []web.FieldError{{Field: "role", Message: unknown}},
		},
		{
			name: "unknown field in slice element",
			body: `{"name":"a","shipping":{"city":"c"},"items":[{"sku":"s","quantity":1,"price":0}]}`,
			want: []web.FieldError{{Field: "items[0].price", Message: unknown}},
		},
		{
			name: "unknown field in nested struct",
			body: `{"name":"a","shipping":{"city":"c","country":"x"},"items":[{"sku":"s","quantity":1}]}`,
			want: []web.FieldError{{Field: "shipping.country", Message: unknown}},
		},
		{
			name: "differently cased key",
			body: `{"Name":"a","shipping":{"city":"c"},"items":[{"sku":"s","quantity":1}]}`,
			want: []web.FieldError{{Field: "Name", Message: unknown}},
		},
		{
			name: "duplicate key",
			body: `{"name":"a","name":"b","shipping":{"city":"c"},"items":[{"sku":"s","quantity":1}]}`,
			want: []web.FieldError{{Field: "name", Message: "appears more than once"}},
		},
		{
			name: "duplicate key in nested element",
			body: `{"name":"a","shipping":{"city":"c"},"items":[{"sku":"s","quantity":1,"quantity":99}]}`,
			want: []web.FieldError{{Field: "items[0].quantity", Message: "appears more than once"}},
		},
		{
			name: "string field given a number",
			body: `{"name":5,"shipping":{"city":"c"},"items":[{"sku":"s","quantity":1}]}`,
			want: []web.FieldError{{Field: "name", Message: wrongType}},
		},
		{
			name: "integer field given a string",
			body: `{"name":"a","shipping":{"city":"c"},"items":[{"sku":"s","quantity":"1"}]}`,
			want: []web.FieldError{{Field: "items[0].quantity", Message: wrongType}},
		},
		{
			name: "number too large for int32",
			body: `{"name":"a","shipping":{"city":"c"},"items":[{"sku":"s","quantity":3000000000}]}`,
			want: []web.FieldError{{Field: "items[0].quantity", Message: wrongType}},
		},
		{
			name: "fraction for an integer",
			body: `{"name":"a","shipping":{"city":"c"},"items":[{"sku":"s","quantity":1.5}]}`,
			want: []web.FieldError{{Field: "items[0].quantity", Message: wrongType}},
		},
		{
			name: "array instead of object",
			body: `[]`,
			want: []web.FieldError{{Field: "(body)", Message: wrongType}},
		},
		{
			name: "dive validates every element",
			body: `{"name":"a","shipping":{"city":"c"},"items":[{"sku":"s","quantity":1},{"sku":"t","quantity":0}]}`,
			want: []web.FieldError{{Field: "items[1].quantity", Message: "must be at least 1"}},
		},
		{
			name: "several validation failures",
			body: `{"name":"","shipping":{"city":"c"},"items":[{"sku":"","quantity":101}]}`,
			want: []web.FieldError{
				{Field: "name", Message: "is required"},
				{Field: "items[0].sku", Message: "is required"},
				{Field: "items[0].quantity", Message: "must be at most 100"},
			},
		},
		{
			name: "nested struct missing",
			body: `{"name":"a","items":[{"sku":"s","quantity":1}]}`,
			want: []web.FieldError{{Field: "shipping", Message: "is required"}},
		},
		{
			name: "empty slice",
			body: `{"name":"a","shipping":{"city":"c"},"items":[]}`,
			want: []web.FieldError{{Field: "items", Message: "must be at least 1 items"}},
		},
		{
			// Regression (FuzzBindUpdateOrder, internal/orders/testdata/fuzz/
			// FuzzBindUpdateOrder/5c299a89b6620d26): a client's member name is
			// echoed, and JSON lets it carry DEL, NUL (escaped) or a bidi
			// override; the echo shows them as "?".
			name: "unprintable characters in an unknown name",
			body: "{\"a\x7fb\\u0000c\\u202ed\":1}",
			want: []web.FieldError{{Field: "a?b?c?d", Message: unknown}},
		},
		{
			name: "bidi override in nested string",
			body: `{"name":"a","shipping":{"city":"c\u202egpj.exe"},"items":[{"sku":"s","quantity":1}]}`,
			want: []web.FieldError{{Field: "shipping.city", Message: "contains characters that are not allowed"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bind(t, echo.MIMEApplicationJSON, tt.body)
			var verr *web.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Bind error = %v, want a *web.ValidationError", err)
			}
			if diff := cmp.Diff(tt.want, verr.Fields); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStrictJSONBinderRejectsMalformedBody(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{name: "empty body", body: ""},
		{name: "whitespace only", body: "  \n"},
		{name: "second value after the object", body: validOrder + ` {}`},
		{name: "garbage after the object", body: validOrder + `x`},
		{name: "cut short", body: validOrder[:20]},
		{name: "invalid UTF-8 in a string", body: "{\"name\":\"a\xff\",\"shipping\":{\"city\":\"c\"},\"items\":[{\"sku\":\"s\",\"quantity\":1}]}"},
		{name: "invalid UTF-8 in a key", body: "{\"na\xffme\":\"a\"}"},
		{name: "single quotes", body: `{'name':'a'}`},
		{name: "trailing comma", body: `{"name":"a",}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bind(t, echo.MIMEApplicationJSON, tt.body)
			var invalid web.Invalid
			if !errors.As(err, &invalid) {
				t.Fatalf("Bind(%q) error = %v, want a web.Invalid", tt.body, err)
			}
			if invalid == "" {
				t.Error("web.Invalid has no public message")
			}
		})
	}
}

// TestBindErrorsShownToClients sends bad bodies through a real route and
// error handler, the way a client sees them: the problem+json names fields
// in JSON terms and never leaks the decoder's Go-flavoured messages.
func TestBindErrorsShownToClients(t *testing.T) {
	var logs bytes.Buffer
	e := newBindingEcho()
	e.HTTPErrorHandler = web.ErrorHandler(slog.New(slog.NewJSONHandler(&logs, nil)))
	e.POST("/orders", func(c *echo.Context) error {
		var req orderRequest
		if err := c.Bind(&req); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})

	tests := []struct {
		name        string
		contentType string
		body        string
		wantStatus  int
		wantFields  []string
	}{
		{name: "unknown field", body: `{"name":"a","role":"admin"}`, wantStatus: 400, wantFields: []string{"role"}},
		{name: "number too large for int32", body: `{"name":"a","shipping":{"city":"c"},"items":[{"sku":"s","quantity":3000000000}]}`, wantStatus: 400, wantFields: []string{"items[0].quantity"}},
		{name: "wrong type", body: `{"name":{"x":1}}`, wantStatus: 400, wantFields: []string{"name"}},
		{name: "array for object", body: `[1,2]`, wantStatus: 400, wantFields: []string{"(body)"}},
		{name: "duplicate key", body: `{"name":"a","name":"b"}`, wantStatus: 400, wantFields: []string{"name"}},
		{name: "validation", body: `{"name":"a","shipping":{"city":"c"},"items":[{"sku":"s","quantity":1},{"sku":"s","quantity":0}]}`, wantStatus: 400, wantFields: []string{"items[1].quantity"}},
		{name: "trailing data", body: `{"name":"a"} {}`, wantStatus: 400},
		{name: "invalid UTF-8", body: "{\"name\":\"\xff\"}", wantStatus: 400},
		{name: "empty", body: "", wantStatus: 400},
		{name: "syntax", body: `{"name":`, wantStatus: 400},
		{name: "form post", contentType: "application/x-www-form-urlencoded", body: "name=a", wantStatus: 415},
	}
	leaks := []string{"int32", "struct", "json:", "go-json", "jsontext", "orderRequest", "orderItem", "web_test", "unmarshal", "Go "}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/orders", strings.NewReader(tt.body))
			contentType := tt.contentType
			if contentType == "" {
				contentType = echo.MIMEApplicationJSON
			}
			req.Header.Set(echo.HeaderContentType, contentType)
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)

			raw := rec.Body.String()
			p := decodeProblem(t, rec)
			if p.Status != tt.wantStatus || rec.Code != tt.wantStatus {
				t.Errorf("status = %d (body says %d), want %d; body %s", rec.Code, p.Status, tt.wantStatus, raw)
			}
			var fields []string
			for _, f := range p.Errors {
				fields = append(fields, f.Field)
			}
			if diff := cmp.Diff(tt.wantFields, fields); diff != "" {
				t.Errorf("problem fields (-want +got):\n%s", diff)
			}
			if p.Detail == "" {
				t.Errorf("problem has no detail: %s", raw)
			}
			for _, leak := range leaks {
				if strings.Contains(raw, leak) {
					t.Errorf("client body contains %q: %s", leak, raw)
				}
			}
		})
	}
}

func decodeProblem(t *testing.T, rec *httptest.ResponseRecorder) web.Problem {
	t.Helper()
	if ct := rec.Header().Get(echo.HeaderContentType); ct != echo.MIMEApplicationProblemJSON {
		t.Errorf("Content-Type = %q, want %q", ct, echo.MIMEApplicationProblemJSON)
	}
	body, err := io.ReadAll(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	var p web.Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("body is not a problem: %v: %s", err, body)
	}
	return p
}
