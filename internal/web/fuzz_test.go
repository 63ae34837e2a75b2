package web_test

// Fuzz targets for the strict binder and the validator's own rules, on the
// test DTO of bind_test.go (the real DTOs are fuzzed in their packages:
// internal/orders and internal/auth). Run one with
//
//	go test -run '^$' -fuzz '^FuzzStrictJSONBinder$' -fuzztime 60s ./internal/web

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/bulwark-dev/bulwark/internal/web"
	"github.com/bulwark-dev/bulwark/internal/web/webtest"
	"github.com/bulwark-dev/bulwark/tools/attack"
)

// FuzzStrictJSONBinder: a body is either refused with a 400 that names
// fields in a short, printable form, or it is strict JSON whose every
// member the DTO declares, which re-encodes and binds again to the same
// value; nested values are validated all the way down.
func FuzzStrictJSONBinder(f *testing.F) {
	f.Add([]byte(validOrder))
	for _, b := range attack.PatchMeBodies() {
		f.Add([]byte(b))
	}
	for _, v := range attack.SQLInjectionValues() {
		b, _ := json.Marshal(map[string]any{"name": v, "shipping": map[string]string{"city": v}, "items": []any{map[string]any{"sku": v, "quantity": 1}}})
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, ok := webtest.CheckStrictBind[orderRequest](t, body)
		if !ok {
			return
		}
		if n := len(req.Items); n < 1 || n > 10 {
			t.Fatalf("%d items passed", n)
		}
		for _, s := range []string{req.Name, req.Shipping.City} {
			if s == "" || !isSafe(s) {
				t.Fatalf("%q passed safetext", s)
			}
		}
		for _, it := range req.Items {
			if it.SKU == "" || !isSafe(it.SKU) || utf8.RuneCountInString(it.SKU) > 20 || it.Quantity < 1 || it.Quantity > 100 {
				t.Fatalf("item %+v passed", it)
			}
		}
	})
}

func isSafe(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) })
}

// textRules has one field per custom rule of the validator.
type textRules struct {
	Safe    string `json:"safe" validate:"safetext"`
	Address string `json:"address" validate:"addresstext"`
	Postal  string `json:"postal" validate:"postalcode"`
	Country string `json:"country" validate:"countrycode"`
	Note    string `json:"note" validate:"notetext"`
}

// FuzzTextRules: each custom rule accepts only what it promises, written
// here independently of its implementation: safetext has no control or
// invisible formatting character; addresstext has letters, marks, digits,
// spaces and . , ' - / # & ( ) only (no markup, quotes or braces);
// postalcode is 1–16 ASCII letters, digits, spaces and hyphens, starting
// with a letter or digit; countrycode is two capital ASCII letters that
// ISO 3166-1 has assigned;
// notetext is safetext plus line breaks and tabs.
func FuzzTextRules(f *testing.F) {
	for _, v := range attack.SQLInjectionValues() {
		f.Add(v)
	}
	for _, v := range attack.TraversalFilenames() {
		f.Add(v)
	}
	for _, v := range []string{"12 Rue de l'Église", "DE", "10115", "SW1A 1AA", "line\nbreak\ttab", "<script>", "a\u202eb", "Zoë"} {
		f.Add(v)
	}
	v := web.NewValidator()
	postal := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 -]{0,15}$`)
	f.Fuzz(func(t *testing.T, s string) {
		rules := []struct {
			name   string
			set    func(*textRules)
			should bool
		}{
			{"safe", func(r *textRules) { r.Safe = s }, isSafe(s)},
			{"address", func(r *textRules) { r.Address = s }, utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool {
				return !unicode.In(r, unicode.L, unicode.M, unicode.N) && !strings.ContainsRune(" .,'-/#&()", r)
			})},
			{"postal", func(r *textRules) { r.Postal = s }, postal.MatchString(s)},
			// Which pairs ISO has assigned is data (countries.go, held by
			// TestCountryCodesAreISO3166); the shape is this oracle's own.
			{"country", func(r *textRules) { r.Country = s }, len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && web.IsCountryCode(s)},
			{"note", func(r *textRules) { r.Note = s }, isSafe(strings.NewReplacer("\n", "", "\t", "", "\r", "").Replace(s))},
		}
		for _, rule := range rules {
			// The other fields hold valid values, so only this rule decides.
			r := textRules{Safe: "ok", Address: "ok", Postal: "1", Country: "DE", Note: "ok"}
			rule.set(&r)
			err := v.Struct(&r)
			if (err == nil) != rule.should {
				t.Fatalf("%s rule on %q: error %v, want accepted=%v", rule.name, s, err, rule.should)
			}
			if err != nil && web.StatusOf(err) != 400 {
				t.Fatalf("%s rule on %q: answered %d", rule.name, s, web.StatusOf(err))
			}
		}
	})
}
