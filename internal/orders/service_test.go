package orders

import (
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/bulwark-dev/bulwark/internal/web"
)

func TestPrice(t *testing.T) {
	var (
		mug     = Product{ID: uuid.MustParse("00000000-0000-4000-8000-0000000000a1"), Name: "Mug", PriceCents: 1250, Currency: "EUR"}
		pen     = Product{ID: uuid.MustParse("00000000-0000-4000-8000-0000000000a2"), Name: "Pen", PriceCents: 99, Currency: "EUR"}
		sticker = Product{ID: uuid.MustParse("00000000-0000-4000-8000-0000000000a3"), Name: "Sticker", PriceCents: 0, Currency: "EUR"}
		hat     = Product{ID: uuid.MustParse("00000000-0000-4000-8000-0000000000b1"), Name: "Hat", PriceCents: 2000, Currency: "USD"}
		unknown = uuid.MustParse("00000000-0000-4000-8000-0000000000ff")
	)
	catalogue := map[uuid.UUID]Product{mug.ID: mug, pen.ID: pen, sticker.ID: sticker, hat.ID: hat}
	line := func(p Product, qty int) Item {
		return Item{ProductID: p.ID, Name: p.Name, Quantity: qty, UnitPriceCents: p.PriceCents}
	}

	tests := []struct {
		name         string
		items        []NewItem
		wantLines    []Item
		wantTotal    int64
		wantCurrency string
		wantFields   []string // nil: no error
	}{
		{
			name:      "one line",
			items:     []NewItem{{mug.ID, 3}},
			wantLines: []Item{line(mug, 3)}, wantTotal: 3750, wantCurrency: "EUR",
		},
		{
			name:      "several lines in the order given",
			items:     []NewItem{{pen.ID, 10}, {mug.ID, 2}, {sticker.ID, 1000}},
			wantLines: []Item{line(pen, 10), line(mug, 2), line(sticker, 1000)}, wantTotal: 990 + 2500, wantCurrency: "EUR",
		},
		{
			name:      "other currency on its own",
			items:     []NewItem{{hat.ID, 1}},
			wantLines: []Item{line(hat, 1)}, wantTotal: 2000, wantCurrency: "USD",
		},
		{
			name:       "unknown product",
			items:      []NewItem{{mug.ID, 1}, {unknown, 1}},
			wantFields: []string{"items[1].product_id"},
		},
		{
			name:       "unknown product first",
			items:      []NewItem{{unknown, 1}, {mug.ID, 1}},
			wantFields: []string{"items[0].product_id"},
		},
		{
			name:       "mixed currency",
			items:      []NewItem{{mug.ID, 1}, {hat.ID, 1}},
			wantFields: []string{"items[1].product_id"},
		},
		{
			name:       "mixed currency after an unknown product",
			items:      []NewItem{{unknown, 1}, {hat.ID, 1}, {mug.ID, 1}},
			wantFields: []string{"items[0].product_id", "items[2].product_id"},
		},
		{
			name:       "same product twice",
			items:      []NewItem{{mug.ID, 1}, {mug.ID, 5}},
			wantFields: []string{"items[1].product_id"},
		},
		{
			name:       "same product twice, apart",
			items:      []NewItem{{mug.ID, 1}, {pen.ID, 1}, {mug.ID, 1}},
			wantFields: []string{"items[2].product_id"},
		},
		{
			name:       "same unknown product twice",
			items:      []NewItem{{unknown, 1}, {unknown, 1}},
			wantFields: []string{"items[0].product_id", "items[1].product_id"},
		},
		{
			name:       "every error is listed",
			items:      []NewItem{{mug.ID, 1}, {unknown, 1}, {hat.ID, 1}, {mug.ID, 1}},
			wantFields: []string{"items[1].product_id", "items[2].product_id", "items[3].product_id"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines, total, currency, err := price(tt.items, catalogue)
			if tt.wantFields != nil {
				var ve *web.ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("error %v, want a *web.ValidationError on %v", err, tt.wantFields)
				}
				var fields []string
				for _, f := range ve.Fields {
					fields = append(fields, f.Field)
				}
				if diff := cmp.Diff(tt.wantFields, fields); diff != "" {
					t.Errorf("fields (-want +got):\n%s", diff)
				}
				if lines != nil || total != 0 || currency != "" {
					t.Errorf("a refused order still priced: %v, %d, %q", lines, total, currency)
				}
				return
			}
			if err != nil {
				t.Fatalf("price: %v", err)
			}
			if diff := cmp.Diff(tt.wantLines, lines); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
			if total != tt.wantTotal || currency != tt.wantCurrency {
				t.Errorf("total %d %s, want %d %s", total, currency, tt.wantTotal, tt.wantCurrency)
			}
		})
	}
}

// The largest order the request validation lets through (50 lines of 1000
// at the highest price that price accepts) totals without overflow; a price
// above that is an error, not a wrapped total.
func TestPriceBounds(t *testing.T) {
	const highest = math.MaxInt64 / 1000 / 50
	catalogue := map[uuid.UUID]Product{}
	var items []NewItem
	for range 50 {
		p := Product{ID: uuid.New(), Name: "Gold", PriceCents: highest, Currency: "EUR"}
		catalogue[p.ID] = p
		items = append(items, NewItem{ProductID: p.ID, Quantity: 1000})
	}
	_, total, _, err := price(items, catalogue)
	if err != nil {
		t.Fatalf("largest order: %v", err)
	}
	if want := int64(highest) * 1000 * 50; total != want {
		t.Errorf("largest order total %d, want %d", total, want)
	}

	tooDear := Product{ID: uuid.New(), Name: "Too dear", PriceCents: highest + 1, Currency: "EUR"}
	_, _, _, err = price([]NewItem{{tooDear.ID, 1}}, map[uuid.UUID]Product{tooDear.ID: tooDear})
	var ve *web.ValidationError
	if err == nil || errors.As(err, &ve) {
		t.Errorf("price above the bound: error %v, want an internal error", err)
	}
}
