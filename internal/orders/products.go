package orders

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"

	"github.com/bulwark-dev/bulwark/internal/db"
	"github.com/bulwark-dev/bulwark/internal/web"
)

// The catalogue's list contract: sorted by sku, limit products a page
// (DefaultLimit when absent, at most MaxLimit), and a cursor that is the
// last sku of the page. The cursor is not signed as the order lists' are:
// every customer may read the whole catalogue, so a forged cursor reaches
// nothing they could not page to.

// ProductPage is one page of the catalogue.
type ProductPage struct {
	Items      []Product
	NextCursor string
}

// Products returns the page of the catalogue rawQuery asks for. Any
// parameter but limit and cursor, a repeated one or an empty one is a 400,
// as on the order lists (ParseListParams).
func (s *Service) Products(ctx context.Context, rawQuery string) (ProductPage, error) {
	q, err := parseQuery(rawQuery)
	if err != nil {
		return ProductPage{}, err
	}
	limit := DefaultLimit
	var after *string
	for name, values := range q {
		if name != "limit" && name != "cursor" {
			return ProductPage{}, paramError(clip(name), "is not a known query parameter (use limit, cursor)")
		}
		if len(values) > 1 || values[0] == "" {
			return ProductPage{}, paramError(name, "must be given once, and not empty")
		}
	}
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if !limitPattern.MatchString(raw) || err != nil || n > MaxLimit {
			return ProductPage{}, paramError("limit", fmt.Sprintf("must be a whole number from 1 to %d", MaxLimit))
		}
		limit = n
	}
	if raw := q.Get("cursor"); raw != "" {
		sku, err := base64.RawURLEncoding.DecodeString(raw)
		// Only what a sku can be: a cursor that decodes to anything else
		// (invalid UTF-8, a NUL) never reaches the database.
		if err != nil || len(sku) == 0 || len(sku) > 64 || !web.IsSafeText(string(sku)) {
			return ProductPage{}, paramError("cursor", "is not a cursor from a previous page of this list")
		}
		last := string(sku)
		after = &last
	}
	rows, err := s.store.q.ListProducts(ctx, db.ListProductsParams{AfterSku: after, RowLimit: int32(limit + 1)}) //nolint:gosec // limit ≤ MaxLimit.
	if err != nil {
		return ProductPage{}, fmt.Errorf("list products: %w", err)
	}
	page := ProductPage{Items: make([]Product, 0, min(len(rows), limit))}
	for i, r := range rows {
		if i == limit {
			page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(page.Items[i-1].SKU))
			break
		}
		page.Items = append(page.Items, Product{ID: r.ID, SKU: r.Sku, Name: r.Name, PriceCents: r.PriceCents, Currency: r.Currency, Stock: r.Stock})
	}
	return page, nil
}
