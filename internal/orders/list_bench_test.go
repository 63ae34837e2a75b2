package orders_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bulwark-dev/bulwark/internal/orders"
)

// BenchmarkParseListParams is the cost of the sort allowlist, the filters
// and the cursor check on every list request: a first page, a later page
// (whose cursor's MAC is verified), and an injection attempt refused.
func BenchmarkParseListParams(b *testing.B) {
	cursors := orders.NewCursors([]byte("0123456789abcdef0123456789abcdef"))
	scope := orders.Scope(uuid.New())
	next := cursors.Encode(scope, orders.SortCreatedDesc, "", orders.Key{Value: time.Now().UnixMicro(), ID: uuid.New()})
	cases := []struct {
		name, query string
		wantErr     bool
	}{
		{"first-page", "sort=-created_at&limit=20", false},
		{"next-page", "sort=-created_at&limit=20&cursor=" + url.QueryEscape(next), false},
		{"injection", "sort=" + url.QueryEscape("created_at;DROP TABLE orders--"), true},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := orders.ParseListParams(tc.query, cursors, scope); (err != nil) != tc.wantErr {
					b.Fatalf("parse: %v", err)
				}
			}
		})
	}
}
