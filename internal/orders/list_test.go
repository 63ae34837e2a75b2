package orders_test

import (
	"encoding/base64"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/bulwark-dev/bulwark/internal/orders"
	"github.com/bulwark-dev/bulwark/internal/web"
)

var (
	allSorts    = []orders.Sort{orders.SortCreatedDesc, orders.SortCreatedAsc, orders.SortTotalDesc, orders.SortTotalAsc}
	allStatuses = []orders.Status{"", orders.StatusPending, orders.StatusPaid, orders.StatusShipped, orders.StatusDelivered, orders.StatusCancelled}
)

func testCursors(t *testing.T, secrets ...string) *orders.Cursors {
	t.Helper()
	bs := make([][]byte, 0, len(secrets))
	for _, s := range secrets {
		bs = append(bs, []byte(s))
	}
	return orders.NewCursors(bs...)
}

// fieldsOf returns the field names of a 400, failing the test for any
// other kind of error.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	var ve *web.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T), want a *web.ValidationError", err, err)
	}
	names := make([]string, 0, len(ve.Fields))
	for _, f := range ve.Fields {
		if f.Message == "" {
			t.Errorf("field %q has no message", f.Field)
		}
		names = append(names, f.Field)
	}
	return names
}

func TestParseListParamsAccepts(t *testing.T) {
	defaults := orders.ListParams{Sort: orders.DefaultSort, Limit: orders.DefaultLimit}
	tests := []struct {
		name string
		raw  string
		want orders.ListParams
	}{
		{"no query", "", defaults},
		{"empty pairs", "&&", defaults},
		{"limit 1", "limit=1", orders.ListParams{Sort: orders.DefaultSort, Limit: 1}},
		{"limit 100", "limit=100", orders.ListParams{Sort: orders.DefaultSort, Limit: 100}},
		{"everything", "sort=total&status=paid&limit=7", orders.ListParams{Sort: orders.SortTotalAsc, Status: orders.StatusPaid, Limit: 7}},
		{"percent-encoded value", "sort=%2Dtotal", orders.ListParams{Sort: orders.SortTotalDesc, Limit: orders.DefaultLimit}},
	}
	for _, s := range allSorts {
		tests = append(tests, struct {
			name string
			raw  string
			want orders.ListParams
		}{"sort " + string(s), "sort=" + string(s), orders.ListParams{Sort: s, Limit: orders.DefaultLimit}})
	}
	for _, st := range allStatuses[1:] {
		tests = append(tests, struct {
			name string
			raw  string
			want orders.ListParams
		}{"status " + string(st), "status=" + string(st), orders.ListParams{Sort: orders.DefaultSort, Status: st, Limit: orders.DefaultLimit}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := orders.ParseListParams(tt.raw, testCursors(t, "k"), "owner:a")
			if err != nil {
				t.Fatalf("ParseListParams(%q): %v", tt.raw, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseListParams(%q) (-want +got):\n%s", tt.raw, diff)
			}
		})
	}
}

func TestParseListParamsRefuses(t *testing.T) {
	tests := []struct {
		name  string
		raw   string
		field string
	}{
		{"unknown sort", "sort=name", "sort"},
		{"sort in another case", "sort=TOTAL", "sort"},
		{"sort with a trailing space", "sort=total%20", "sort"},
		{"sort with a plus", "sort=+total", "sort"},
		{"SQL in sort", "sort=total%20DESC%3B%20DROP%20TABLE%20orders", "sort"},
		{"raw semicolon kept in the value", "sort=total;DROP", "sort"},
		{"raw semicolon before another pair", "sort=total;status=paid", "sort"},
		{"escaped semicolon", "sort=total%3BDROP", "sort"},
		{"truncated escape", "sort=total%", "sort"},
		{"half escape", "sort=total%e", "sort"},
		{"invalid escape", "sort=%zz", "sort"},
		{"invalid escape in status", "status=%zzpaid", "status"},
		{"invalid escape in the name", "%zz=1", "(query)"},
		{"unknown status", "status=refunded", "status"},
		{"status in another case", "status=PAID", "status"},
		{"status with a semicolon", "status=paid;x", "status"},
		{"limit 0", "limit=0", "limit"},
		{"limit 101", "limit=101", "limit"},
		{"limit 1000", "limit=1000", "limit"},
		{"limit +5 (plus is a space)", "limit=+5", "limit"},
		{"limit %2B5", "limit=%2B5", "limit"},
		{"limit 05", "limit=05", "limit"},
		{"limit with a leading space", "limit=%205", "limit"},
		{"limit with a trailing space", "limit=5%20", "limit"},
		{"limit with a trailing newline", "limit=5%0A", "limit"},
		{"limit 5e1", "limit=5e1", "limit"},
		{"limit -1", "limit=-1", "limit"},
		{"limit 1.5", "limit=1.5", "limit"},
		{"limit hex", "limit=0x10", "limit"},
		{"limit full-width digit", "limit=%EF%BC%95", "limit"},
		{"limit beyond int64", "limit=99999999999999999999", "limit"},
		{"cursor garbage", "cursor=abc", "cursor"},
		{"cursor with a dot only", "cursor=.", "cursor"},
		{"sort twice", "sort=total&sort=total", "sort"},
		{"sort twice, different", "sort=total&sort=-total", "sort"},
		{"status twice", "status=paid&status=paid", "status"},
		{"limit twice", "limit=5&limit=5", "limit"},
		{"cursor twice", "cursor=a.b&cursor=a.b", "cursor"},
		{"sort empty", "sort=", "sort"},
		{"sort without =", "sort", "sort"},
		{"status empty", "status=", "status"},
		{"limit empty", "limit=", "limit"},
		{"cursor empty", "cursor=", "cursor"},
		{"unknown parameter", "page=2", "page"},
		{"parameter in another case", "Sort=total", "Sort"},
		{"unknown parameter among known ones", "sort=total&debug=1&limit=5", "debug"},
		{"unknown parameter without a value", "admin", "admin"},
		{"long unknown name clipped", strings.Repeat("x", 60) + "=1", strings.Repeat("x", 40) + "…"},
		{"long non-ASCII name clipped on runes", strings.Repeat("%C3%A9", 60) + "=1", strings.Repeat("é", 40) + "…"},
		{"invalid UTF-8 name", "%ff%fe=1", "?"},
		{"invalid UTF-8 name with a malformed value", "a%ffb=%zz", "a?b"},
		{"long invalid UTF-8 name", strings.Repeat("%E9a", 50) + "=1", strings.Repeat("?a", 20) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := orders.ParseListParams(tt.raw, testCursors(t, "k"), "owner:a")
			if err == nil {
				t.Fatalf("ParseListParams(%q) = %+v, want a 400 naming %q", tt.raw, got, tt.field)
			}
			if diff := cmp.Diff([]string{tt.field}, fieldsOf(t, err)); diff != "" {
				t.Errorf("ParseListParams(%q) fields (-want +got):\n%s", tt.raw, diff)
			}
		})
	}
}

// Whatever the query string, the answer is valid parameters or a 400 that
// names one short, valid UTF-8 field.
func TestParseListParamsProperties(t *testing.T) {
	pieces := []string{
		"sort", "status", "limit", "cursor", "=", "=", "&", "&", "%", "%zz", "%ff", "%C3", "%2D", ";", "+",
		"total", "-created_at", "paid", "5", "100", "0", "x", "é", "\xff",
	}
	rng := rand.New(rand.NewPCG(5, 6)) // fixed seed: a failure reproduces
	cursors := testCursors(t, "k")
	for i := range 20000 {
		var b strings.Builder
		for range rng.IntN(12) {
			if rng.IntN(6) == 0 {
				b.WriteByte(byte(rng.IntN(256)))
				continue
			}
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		raw := b.String()
		p, err := orders.ParseListParams(raw, cursors, "owner:a")
		if err != nil {
			var ve *web.ValidationError
			if !errors.As(err, &ve) || len(ve.Fields) != 1 {
				t.Fatalf("case %d: ParseListParams(%q): %#v, want a 400 naming one field", i, raw, err)
			}
			if f := ve.Fields[0].Field; !utf8.ValidString(f) || utf8.RuneCountInString(f) > 41 {
				t.Fatalf("case %d: ParseListParams(%q) names field %q", i, raw, f)
			}
			continue
		}
		if p.Limit < 1 || p.Limit > orders.MaxLimit {
			t.Fatalf("case %d: ParseListParams(%q) limit %d", i, raw, p.Limit)
		}
		if _, err := orders.ParseSort(string(p.Sort)); err != nil || p.Sort == "" {
			t.Fatalf("case %d: ParseListParams(%q) sort %q", i, raw, p.Sort)
		}
		if _, err := orders.ParseStatus(string(p.Status)); err != nil {
			t.Fatalf("case %d: ParseListParams(%q) status %q", i, raw, p.Status)
		}
	}
}

func TestParseListParamsCursor(t *testing.T) {
	cursors := testCursors(t, "k")
	scope := orders.Scope(uuid.MustParse("a11ce000-0000-4000-8000-000000000001"))
	key := orders.Key{Value: 4200, ID: uuid.MustParse("0badc0de-0000-4000-8000-000000000002")}
	cursor := cursors.Encode(scope, orders.SortTotalAsc, orders.StatusPaid, key)

	p, err := orders.ParseListParams("sort=total&status=paid&cursor="+cursor, cursors, scope)
	if err != nil {
		t.Fatalf("own cursor: %v", err)
	}
	if p.After == nil || *p.After != key {
		t.Errorf("After = %+v, want %+v", p.After, key)
	}

	refused := []struct {
		name, raw, scope string
	}{
		{"another sort", "sort=-total&status=paid&cursor=" + cursor, scope},
		{"another status", "sort=total&status=shipped&cursor=" + cursor, scope},
		{"no status", "sort=total&cursor=" + cursor, scope},
		{"default sort", "status=paid&cursor=" + cursor, scope},
		{"another caller", "sort=total&status=paid&cursor=" + cursor, orders.Scope(uuid.New())},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			_, err := orders.ParseListParams(tt.raw, cursors, tt.scope)
			if diff := cmp.Diff([]string{"cursor"}, fieldsOf(t, err)); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCursorsRoundTrip(t *testing.T) {
	cursors := testCursors(t, "k")
	scope := orders.Scope(uuid.MustParse("a11ce000-0000-4000-8000-000000000001"))
	id := uuid.MustParse("0badc0de-0000-4000-8000-000000000002")
	keys := []struct {
		name string
		key  orders.Key
	}{
		{"one", orders.Key{Value: 1, ID: id}},
		{"minus one", orders.Key{Value: -1, ID: id}},
		{"zero, nil id", orders.Key{Value: 0, ID: uuid.Nil}},
		{"a time in microseconds", orders.Key{Value: time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC).UnixMicro(), ID: id}},
		{"int64 extremes low", orders.Key{Value: math.MinInt64, ID: uuid.Max}},
		{"int64 extremes high", orders.Key{Value: math.MaxInt64, ID: id}},
	}
	for _, s := range allSorts {
		keys = append(keys, struct {
			name string
			key  orders.Key
		}{"first page key of " + string(s), orders.FirstPageKey(s)})
	}
	for _, s := range allSorts {
		for _, st := range allStatuses {
			for _, k := range keys {
				t.Run(string(s)+"/"+string(st)+"/"+k.name, func(t *testing.T) {
					got, err := cursors.Decode(cursors.Encode(scope, s, st, k.key), scope, s, st)
					if err != nil {
						t.Fatalf("Decode: %v", err)
					}
					if diff := cmp.Diff(k.key, got); diff != "" {
						t.Errorf("round trip (-want +got):\n%s", diff)
					}
				})
			}
		}
	}
}

func TestCursorsRefuseAnotherList(t *testing.T) {
	cursors := testCursors(t, "k")
	scope := orders.Scope(uuid.MustParse("a11ce000-0000-4000-8000-000000000001"))
	key := orders.Key{Value: 10, ID: uuid.New()}
	for _, s := range allSorts {
		for _, st := range allStatuses {
			cursor := cursors.Encode(scope, s, st, key)
			if _, err := cursors.Decode(cursor, scope, s, st); err != nil {
				t.Fatalf("%s/%q: own list refused: %v", s, st, err)
			}
			for _, other := range []string{orders.Scope(uuid.New()), "owner:", "", scope + " ", strings.ToUpper(scope)} {
				if _, err := cursors.Decode(cursor, other, s, st); err == nil {
					t.Errorf("%s/%q: accepted for scope %q", s, st, other)
				}
			}
			for _, otherSort := range allSorts {
				if _, err := cursors.Decode(cursor, scope, otherSort, st); otherSort != s && err == nil {
					t.Errorf("%s/%q: accepted for sort %s", s, st, otherSort)
				}
			}
			for _, otherStatus := range allStatuses {
				if _, err := cursors.Decode(cursor, scope, s, otherStatus); otherStatus != st && err == nil {
					t.Errorf("%s/%q: accepted for status %q", s, st, otherStatus)
				}
			}
		}
	}
}

func TestCursorsRefuseTampering(t *testing.T) {
	cursors := testCursors(t, "k")
	const scope = "owner:a11ce000-0000-4000-8000-000000000001"
	s, st := orders.SortTotalDesc, orders.StatusPaid
	cursor := cursors.Encode(scope, s, st, orders.Key{Value: 12345, ID: uuid.MustParse("0badc0de-0000-4000-8000-000000000002")})
	if _, err := cursors.Decode(cursor, scope, s, st); err != nil {
		t.Fatalf("untouched cursor refused: %v", err)
	}
	encPayload, encMAC, _ := strings.Cut(cursor, ".")
	payload, err := base64.RawURLEncoding.DecodeString(encPayload)
	if err != nil {
		t.Fatal(err)
	}
	mac, err := base64.RawURLEncoding.DecodeString(encMAC)
	if err != nil {
		t.Fatal(err)
	}
	join := func(p, m []byte) string {
		return base64.RawURLEncoding.EncodeToString(p) + "." + base64.RawURLEncoding.EncodeToString(m)
	}
	if join(payload, mac) != cursor {
		t.Fatal("cursor is not base64url(payload).base64url(mac)")
	}

	t.Run("every byte of payload and MAC", func(t *testing.T) {
		for _, part := range []struct {
			name string
			b    []byte
		}{{"payload", payload}, {"MAC", mac}} {
			for i := range part.b {
				for _, flip := range []byte{0x01, 0x20, 0x80, 0xff} {
					orig := part.b[i]
					part.b[i] ^= flip
					forged := join(payload, mac)
					part.b[i] = orig
					if _, err := cursors.Decode(forged, scope, s, st); err == nil {
						t.Errorf("%s byte %d ^ %#02x accepted", part.name, i, flip)
					}
				}
			}
		}
	})

	// One spelling per cursor, as for signed download links: with the
	// lenient decoder the unused low bits of each segment's last character
	// can be changed and the cursor still verifies.
	t.Run("every character of the cursor", func(t *testing.T) {
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ "
		var accepted []string
		for i := range len(cursor) {
			for j := range len(alphabet) {
				if alphabet[j] == cursor[i] {
					continue
				}
				forged := cursor[:i] + alphabet[j:j+1] + cursor[i+1:]
				if _, err := cursors.Decode(forged, scope, s, st); err == nil {
					accepted = append(accepted, forged)
				}
			}
		}
		if len(accepted) > 0 {
			t.Errorf("%d one-character edits of %q accepted, e.g. %q", len(accepted), cursor, accepted[0])
		}
	})

	t.Run("shape", func(t *testing.T) {
		other := cursors.Encode(scope, s, st, orders.Key{Value: 1, ID: uuid.New()})
		_, otherMAC, _ := strings.Cut(other, ".")
		for name, forged := range map[string]string{
			"no MAC":             encPayload,
			"empty MAC":          encPayload + ".",
			"MAC one byte short": join(payload, mac[:len(mac)-1]),
			"MAC one byte long":  join(payload, append(append([]byte(nil), mac...), 0)),
			"MAC of another":     encPayload + "." + otherMAC,
			"padded base64":      base64.URLEncoding.EncodeToString(payload) + "." + base64.URLEncoding.EncodeToString(mac),
			"standard base64":    base64.RawStdEncoding.EncodeToString(payload) + "." + base64.RawStdEncoding.EncodeToString(mac),
			"trailing dot":       cursor + ".",
			"trailing space":     cursor + " ",
			// Regression (FuzzCursor, testdata/fuzz/FuzzCursor/4a145550e2090080):
			// the base64 decoder skips CR and LF even in strict mode, so
			// these were second spellings of a valid cursor.
			"trailing CR":       cursor + "\r",
			"LF in the payload": cursor[:5] + "\n" + cursor[5:],
			"CRLF in the MAC":   cursor[:len(cursor)-3] + "\r\n" + cursor[len(cursor)-3:],
			"empty":             "",
			"dot":               ".",
			"payload only MAC":  "." + encMAC,
		} {
			if _, err := cursors.Decode(forged, scope, s, st); err == nil {
				t.Errorf("%s: %q accepted", name, forged)
			}
		}
	})
}

// A cursor over 512 bytes is refused before any work, even when it is
// validly signed; one at the limit is not.
func TestCursorsLengthLimit(t *testing.T) {
	cursors := testCursors(t, "k")
	key := orders.Key{Value: 1, ID: uuid.New()}
	var atLimit, overLimit string
	for n := 0; overLimit == ""; n++ {
		c := cursors.Encode(strings.Repeat("s", n), orders.SortTotalAsc, "", key)
		if len(c) <= 512 {
			atLimit = strings.Repeat("s", n)
		} else {
			overLimit = strings.Repeat("s", n)
		}
	}
	if c := cursors.Encode(atLimit, orders.SortTotalAsc, "", key); len(c) < 509 {
		t.Fatalf("longest cursor under the limit is only %d bytes", len(c))
	}
	if _, err := cursors.Decode(cursors.Encode(atLimit, orders.SortTotalAsc, "", key), atLimit, orders.SortTotalAsc, ""); err != nil {
		t.Errorf("cursor of %d bytes refused: %v", len(cursors.Encode(atLimit, orders.SortTotalAsc, "", key)), err)
	}
	long := cursors.Encode(overLimit, orders.SortTotalAsc, "", key)
	if _, err := cursors.Decode(long, overLimit, orders.SortTotalAsc, ""); err == nil {
		t.Errorf("signed cursor of %d bytes accepted", len(long))
	}
	if _, err := cursors.Decode(strings.Repeat("A", 100_000)+".A", "x", orders.SortTotalAsc, ""); err == nil {
		t.Error("100 kB cursor accepted")
	}
}

func TestCursorsRotation(t *testing.T) {
	const scope = "owner:a"
	s, st := orders.SortCreatedDesc, orders.Status("")
	key := orders.Key{Value: time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC).UnixMicro(), ID: uuid.New()}
	old := testCursors(t, "old secret")
	rotated := testCursors(t, "new secret", "old secret")
	retired := testCursors(t, "new secret")

	fromOld := old.Encode(scope, s, st, key)
	if _, err := rotated.Decode(fromOld, scope, s, st); err != nil {
		t.Errorf("cursor of the old key refused after rotation: %v", err)
	}
	if _, err := retired.Decode(fromOld, scope, s, st); err == nil {
		t.Error("cursor of a retired key accepted")
	}
	fromRotated := rotated.Encode(scope, s, st, key)
	if _, err := retired.Decode(fromRotated, scope, s, st); err != nil {
		t.Errorf("cursor signed after rotation is not signed with the new key: %v", err)
	}
	if _, err := old.Decode(fromRotated, scope, s, st); err == nil {
		t.Error("cursor signed after rotation verifies with the old key alone")
	}
}
