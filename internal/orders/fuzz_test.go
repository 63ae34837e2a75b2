package orders

// Fuzz targets for the order DTOs behind the strict binder, the list query
// parser and the cursors. Each asserts the promise the code makes, not just
// "no panic". Run one with
//
//	go test -run '^$' -fuzz '^FuzzParseListParams$' -fuzztime 60s ./internal/orders
//
// or all of them briefly with `make fuzz`. The seeds are the attack
// catalogue's own payloads (tools/attack/payloads.go).

import (
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/bulwark-dev/bulwark/internal/web"
	"github.com/bulwark-dev/bulwark/internal/web/webtest"
	"github.com/bulwark-dev/bulwark/tools/attack"
)

// customerOnly are the order members a customer may never write, at any
// depth (docs/02-mass-assignment.md).
func customerOnly() []string {
	return []string{"id", "owner_id", "status", "total_cents", "unit_price_cents", "internal_note", "payment_reference", "currency", "created_at", "updated_at"}
}

// bodiesWith returns the valid order body with s as the note and as each
// address line, so the fuzzer starts from accepted bodies carrying hostile
// text.
func bodiesWith(t testing.TB, s string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, put := range []func(o map[string]any){
		func(o map[string]any) { o["note"] = s },
		func(o map[string]any) { o["shipping_address"].(map[string]any)["line1"] = s },
		func(o map[string]any) { o["shipping_address"].(map[string]any)["postal_code"] = s },
		func(o map[string]any) { o["items"].([]any)[0].(map[string]any)["product_id"] = s },
	} {
		var o map[string]any
		if err := json.Unmarshal([]byte(attack.ValidOrderBody()), &o); err != nil {
			t.Fatal(err)
		}
		put(o)
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func seedOrderBodies(f *testing.F) {
	f.Add([]byte(attack.ValidOrderBody()))
	f.Add([]byte(attack.UpdateOrderBody()))
	for _, b := range attack.CreateOrderBodies() {
		f.Add([]byte(b))
	}
	for _, v := range slices.Concat(attack.SQLInjectionValues(), attack.TraversalFilenames()) {
		for _, b := range bodiesWith(f, v) {
			f.Add(b)
		}
	}
}

// checkAddress asserts what the address allowlist promises: the text can
// be shown on a staff screen without markup, quotes or invisible tricks.
func checkAddress(t *testing.T, a addressRequest) {
	t.Helper()
	for _, s := range []string{a.Name, a.Line1, a.Line2, a.City} {
		if strings.ContainsAny(s, "<>\"`{}\\;=") || strings.ContainsFunc(s, func(r rune) bool {
			return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError
		}) {
			t.Fatalf("address text %q passed the allowlist", s)
		}
	}
	if len(a.Country) != 2 || strings.IndexFunc(a.Country, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
		t.Fatalf("country %q passed", a.Country)
	}
	postalChar := func(r rune) bool {
		return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == ' ' || r == '-'
	}
	if a.PostalCode == "" || len(a.PostalCode) > 16 || strings.IndexFunc(a.PostalCode, func(r rune) bool { return !postalChar(r) }) >= 0 {
		t.Fatalf("postal code %q passed", a.PostalCode)
	}
}

func checkNote(t *testing.T, note string) {
	t.Helper()
	if utf8.RuneCountInString(note) > 1000 || strings.ContainsFunc(note, func(r rune) bool {
		return r != '\n' && r != '\t' && r != '\r' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r))
	}) {
		t.Fatalf("note %q passed", note)
	}
}

func checkNoCustomerOnlyMember(t *testing.T, body []byte) {
	t.Helper()
	for _, name := range webtest.MemberNames(body) {
		if slices.Contains(customerOnly(), strings.ToLower(name)) {
			t.Fatalf("accepted a body that sets %q: %q", name, body)
		}
	}
}

// FuzzBindCreateOrder: POST /orders accepts only a body that names
// products and quantities, nothing a customer may not write, every nested
// value validated; and the handler's uuid.MustParse cannot panic on what
// the validator let through.
func FuzzBindCreateOrder(f *testing.F) {
	seedOrderBodies(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		req, ok := webtest.CheckStrictBind[createOrderRequest](t, body)
		if !ok {
			return
		}
		checkNoCustomerOnlyMember(t, body)
		if n := len(req.Items); n < 1 || n > 50 {
			t.Fatalf("%d items passed", n)
		}
		for _, it := range req.Items {
			if _, err := uuid.Parse(it.ProductID); err != nil {
				t.Fatalf("product_id %q passed validation but is not a UUID", it.ProductID)
			}
			if it.Quantity < 1 || it.Quantity > 1000 {
				t.Fatalf("quantity %d passed", it.Quantity)
			}
		}
		checkAddress(t, req.ShippingAddress)
		checkNote(t, req.Note)
	})
}

// FuzzBindUpdateOrder: PATCH /orders/{id} accepts the address and the note
// only, each validated when present.
func FuzzBindUpdateOrder(f *testing.F) {
	seedOrderBodies(f)
	f.Add([]byte(`{"note":"leave at the door"}`))
	f.Add([]byte(`{"shipping_address":null,"note":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, ok := webtest.CheckStrictBind[updateOrderRequest](t, body)
		if !ok {
			return
		}
		checkNoCustomerOnlyMember(t, body)
		if req.ShippingAddress != nil {
			checkAddress(t, *req.ShippingAddress)
		}
		if req.Note != nil {
			checkNote(t, *req.Note)
		}
	})
}

// fuzzScope is the scope the list-parameter targets run as.
var fuzzScope = Scope(uuid.MustParse("a11ce000-0000-4000-8000-000000000001"))

func fuzzCursors() *Cursors { return NewCursors([]byte("fuzz-cursor-secret-0123456789abcdef")) }

// FuzzParseListParams: whatever the raw query string, a list request is
// either refused with a 400 naming one parameter, or made of allowlisted
// values only, and then
//   - it agrees with the standard library's reading of the same query (so
//     no other layer can read it differently: no ignored, repeated or
//     smuggled parameter);
//   - it round-trips through its canonical query string;
//   - a cursor in it is byte for byte one the signer issued for this caller,
//     sort and filter.
func FuzzParseListParams(f *testing.F) {
	for _, q := range attack.ListQueries() {
		f.Add(q)
	}
	cursors := fuzzCursors()
	id := uuid.MustParse("0b0b0000-0000-4000-8000-000000000002")
	total, created := Key{Value: 4200, ID: id}, Key{Value: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC).UnixMicro(), ID: id}
	f.Add("sort=total&status=paid&limit=7&cursor=" + cursors.Encode(fuzzScope, SortTotalAsc, StatusPaid, total))
	f.Add("limit=1&cursor=" + cursors.Encode(fuzzScope, DefaultSort, "", created))
	f.Add("cursor=" + cursors.Encode("admin", DefaultSort, "", created))
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := ParseListParams(raw, cursors, fuzzScope)
		if err != nil {
			var verr *web.ValidationError
			if !errors.As(err, &verr) || len(verr.Fields) != 1 || web.StatusOf(err) != 400 {
				t.Fatalf("ParseListParams(%q) error %v is not a 400 naming one parameter", raw, err)
			}
			if name := verr.Fields[0].Field; !utf8.ValidString(name) || utf8.RuneCountInString(name) > 41 || strings.ContainsFunc(name, unicode.IsControl) {
				t.Fatalf("ParseListParams(%q) echoes the name %q", raw, name)
			}
			return
		}
		if !slices.Contains(Sorts(), p.Sort) ||
			!slices.Contains([]Status{"", StatusPending, StatusPaid, StatusShipped, StatusDelivered, StatusCancelled}, p.Status) ||
			p.Limit < 1 || p.Limit > MaxLimit {
			t.Fatalf("ParseListParams(%q) = %+v: outside the allowlist", raw, p)
		}
		// An independent reader of the same string.
		std, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatalf("accepted %q, which net/url refuses: %v", raw, err)
		}
		want := map[string]string{"sort": string(p.Sort), "status": string(p.Status), "limit": strconv.Itoa(p.Limit)}
		for name, values := range std {
			if _, known := want[name]; !known && name != "cursor" {
				t.Fatalf("accepted %q with parameter %q", raw, name)
			}
			if len(values) != 1 {
				t.Fatalf("accepted %q with %q given %d times", raw, name, len(values))
			}
			if name != "cursor" && values[0] != want[name] {
				t.Fatalf("accepted %q: net/url reads %s=%q, the parser used %q", raw, name, values[0], want[name])
			}
		}
		// The canonical form parses to the same request.
		canon := url.Values{"sort": {string(p.Sort)}, "limit": {strconv.Itoa(p.Limit)}}
		if p.Status != "" {
			canon.Set("status", string(p.Status))
		}
		if p.After != nil {
			canon.Set("cursor", std.Get("cursor"))
		}
		again, err := ParseListParams(canon.Encode(), cursors, fuzzScope)
		if err != nil || again.Sort != p.Sort || again.Status != p.Status || again.Limit != p.Limit || (again.After == nil) != (p.After == nil) {
			t.Fatalf("%q parsed to %+v; its canonical form %q to %+v, %v", raw, p, canon.Encode(), again, err)
		}
		if p.After == nil {
			if std.Has("cursor") {
				t.Fatalf("accepted %q: a cursor given and not used", raw)
			}
			return
		}
		if issued := cursors.Encode(fuzzScope, p.Sort, p.Status, *p.After); std.Get("cursor") != issued {
			t.Fatalf("accepted cursor %q for %q, but the signer issues %q for that position", std.Get("cursor"), raw, issued)
		}
	})
}

// FuzzCursor: a cursor decodes to the key it was issued for, and only for
// the list it was issued for (scope, sort, filter); any other string, one
// byte changed, cut or extended, or signed with another secret, never
// decodes at all.
func FuzzCursor(f *testing.F) {
	f.Add(uuid.Nil[:], uint8(0), uint8(0), int64(1_767_225_600_000_000), []byte{0xb0, 0xb0}, uint8(1), uint8(0), uint16(3), byte('A'), "")
	f.Add(uuid.Max[:], uint8(3), uint8(2), int64(-1), []byte{0xff}, uint8(3), uint8(2), uint16(200), byte('.'), "|")
	for _, v := range attack.SQLInjectionValues() {
		f.Add([]byte(v), uint8(2), uint8(5), int64(len(v)), []byte(v), uint8(0), uint8(1), uint16(len(v)), byte(v[0]), v)
	}
	sorts := Sorts()
	statuses := []Status{"", StatusPending, StatusPaid, StatusShipped, StatusDelivered, StatusCancelled}
	cursors := fuzzCursors()
	rotated := NewCursors([]byte("the next secret"), []byte("fuzz-cursor-secret-0123456789abcdef"))
	stranger := NewCursors([]byte("another service's secret"))
	f.Fuzz(func(t *testing.T, owner []byte, si, sti uint8, k int64, id []byte, osi, osti uint8, pos uint16, b byte, tail string) {
		var ownerID, rowID uuid.UUID
		copy(ownerID[:], owner)
		copy(rowID[:], id)
		scope := Scope(ownerID)
		s, st := sorts[int(si)%len(sorts)], statuses[int(sti)%len(statuses)]
		key := Key{Value: k, ID: rowID}
		c := cursors.Encode(scope, s, st, key)
		got, err := cursors.Decode(c, scope, s, st)
		if err != nil || got != key {
			t.Fatalf("cursor %q decodes to %+v, %v; want %+v", c, got, err, key)
		}
		if _, err := rotated.Decode(c, scope, s, st); err != nil {
			t.Fatalf("a key still in the ring no longer verifies %q: %v", c, err)
		}
		if _, err := stranger.Decode(c, scope, s, st); err == nil {
			t.Fatalf("%q verifies under another secret", c)
		}
		// Another list: another owner (the "admin" scope too), sort or filter.
		otherSort, otherStatus := sorts[int(osi)%len(sorts)], statuses[int(osti)%len(statuses)]
		var otherOwner uuid.UUID
		copy(otherOwner[:], id)
		for _, other := range []struct {
			scope string
			s     Sort
			st    Status
		}{{Scope(otherOwner), s, st}, {"admin", s, st}, {scope, otherSort, st}, {scope, s, otherStatus}} {
			if other.scope == scope && other.s == s && other.st == st {
				continue
			}
			if _, err := cursors.Decode(c, other.scope, other.s, other.st); err == nil {
				t.Fatalf("%q, issued for %s %s %q, decodes for %s %s %q", c, scope, s, st, other.scope, other.s, other.st)
			}
		}
		// Tampered: one byte changed, cut short, or extended.
		bs := []byte(c)
		i := int(pos) % len(bs)
		bs[i] = b
		for _, forged := range []string{string(bs), c[:i], c + tail} {
			if forged == c {
				continue
			}
			if _, err := cursors.Decode(forged, scope, s, st); err == nil {
				t.Fatalf("tampered cursor %q (issued %q) decodes", forged, c)
			}
		}
	})
}
