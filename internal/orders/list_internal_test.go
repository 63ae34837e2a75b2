package orders

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

// A time column's key is the microseconds PostgreSQL keeps: an order's
// created_at goes into a cursor and comes back, as the query binds it, as
// the same instant in UTC with no sub-microsecond digits.
func TestCreatedAtKeyRoundTrip(t *testing.T) {
	cursors := NewCursors([]byte("k"))
	const scope = "owner:a"
	tests := []struct {
		name string
		at   time.Time
		want time.Time
	}{
		{"nanoseconds in another zone", time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("UTC+5:30", 5*3600+1800)), time.Date(2024, 5, 6, 1, 38, 9, 123456000, time.UTC)},
		{"last microsecond before 1970", time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC)},
		{"Unix epoch", time.Unix(0, 0), time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"microseconds kept", time.Date(2030, 1, 1, 0, 0, 0, 1000, time.UTC), time.Date(2030, 1, 1, 0, 0, 0, 1000, time.UTC)},
	}
	for _, s := range []Sort{SortCreatedAsc, SortCreatedDesc} {
		for _, tt := range tests {
			t.Run(string(s)+"/"+tt.name, func(t *testing.T) {
				o := Order{ID: uuid.New(), CreatedAt: tt.at, TotalCents: 7}
				key := Key{Value: lookup(s).column.value(o), ID: o.ID}
				got, err := cursors.Decode(cursors.Encode(scope, s, "", key), scope, s, "")
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				bound := asParam[time.Time](got.Value)
				if !bound.Equal(tt.want) || bound.Location() != time.UTC || bound.Nanosecond()%1000 != 0 {
					t.Errorf("bound %v, want %v in UTC", bound, tt.want)
				}
			})
		}
	}
}

// The first page of each sort starts beyond every value its column can
// hold, and the tie-breaking id sorts before (ascending) or after
// (descending) every id.
func TestFirstPageKey(t *testing.T) {
	tests := []struct {
		sort   Sort
		param  any
		wantID uuid.UUID
	}{
		{SortCreatedAsc, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), uuid.Nil},
		{SortCreatedDesc, time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), uuid.Max},
		{SortTotalAsc, int64(math.MinInt64), uuid.Nil},
		{SortTotalDesc, int64(math.MaxInt64), uuid.Max},
	}
	for _, tt := range tests {
		t.Run(string(tt.sort), func(t *testing.T) {
			key := FirstPageKey(tt.sort)
			var param any
			switch tt.param.(type) {
			case time.Time:
				param = asParam[time.Time](key.Value)
			default:
				param = asParam[int64](key.Value)
			}
			if diff := cmp.Diff(tt.param, param); diff != "" || key.ID != tt.wantID {
				t.Errorf("first page key %+v binds (-want +got):\n%s\nid %s, want %s", key, diff, key.ID, tt.wantID)
			}
		})
	}
}

// Every sort has its queries, filtered or not, for both scopes; a sort
// outside the table has none.
func TestEverySortHasItsQueries(t *testing.T) {
	for _, s := range Sorts() {
		for _, status := range []Status{"", StatusPaid} {
			qs, err := ListParams{Sort: s, Status: status}.queries()
			if err != nil || qs.owner == nil || qs.staff == nil {
				t.Errorf("sort %s, status %q: %+v, %v", s, status, qs, err)
			}
		}
	}
	if _, err := (ListParams{Sort: "name"}).queries(); err == nil {
		t.Error("a sort outside the table has queries")
	}
}

// ListPage asks for one row more than the page, cuts it off, and makes the
// next cursor from the page's last row; a page that is not full has no
// next cursor.
func TestListPage(t *testing.T) {
	cursors := NewCursors([]byte("k"))
	const scope = "owner:a"
	rows := make([]Order, 4)
	for i := range rows {
		rows[i] = Order{ID: uuid.New(), TotalCents: int64(100 * (i + 1))}
	}
	fetched := func(n int) func(ListParams) ([]Order, error) {
		return func(p ListParams) ([]Order, error) {
			if want := int32(p.Limit + 1); p.args().limit != want {
				t.Errorf("query binds limit %d, want %d", p.args().limit, want)
			}
			return rows[:n], nil
		}
	}

	page, err := ListPage("sort=total&limit=3", cursors, scope, fetched(4))
	if err != nil {
		t.Fatalf("ListPage: %v", err)
	}
	if diff := cmp.Diff(rows[:3], page.Orders); diff != "" || page.NextCursor == nil {
		t.Fatalf("full page: next cursor %v, orders (-want +got):\n%s", page.NextCursor, diff)
	}
	next, err := cursors.Decode(*page.NextCursor, scope, SortTotalAsc, "")
	if want := (Key{Value: 300, ID: rows[2].ID}); err != nil || next != want {
		t.Errorf("next cursor is %+v, %v; want %+v", next, err, want)
	}
	p, err := ParseListParams("sort=total&limit=3&cursor="+*page.NextCursor, cursors, scope)
	if err != nil || p.args().after != next {
		t.Errorf("the next page starts after %+v, %v; want %+v", p.args().after, err, next)
	}

	for _, n := range []int{0, 2, 3} {
		t.Run(strconv.Itoa(n)+" rows", func(t *testing.T) {
			page, err := ListPage("sort=total&limit=3", cursors, scope, fetched(n))
			if err != nil || len(page.Orders) != n || page.NextCursor != nil {
				t.Errorf("%d rows: %d orders, next %v, %v; want all, no next", n, len(page.Orders), page.NextCursor, err)
			}
		})
	}

	if _, err := ListPage("sort=name", cursors, scope, func(ListParams) ([]Order, error) {
		t.Error("a refused request reached the database")
		return nil, nil
	}); err == nil {
		t.Error("sort=name accepted")
	}
}
