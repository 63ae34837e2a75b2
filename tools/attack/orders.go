package attack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// Demo catalogue and address used to build orders; the ids are the seeded
// products (internal/seed), stable across runs.
const (
	productKeyboard = "9e000000-0000-4000-8000-000000000001"
	productCable    = "9e000000-0000-4000-8000-000000000004"
)

func validAddress() map[string]any {
	return map[string]any{"name": "Alice Example", "line1": "1 Main Street", "city": "Springfield", "postal_code": "12345", "country": "US"}
}

type order struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	TotalCents int64  `json:"total_cents"`
	Note       string `json:"note"`
	Items      []struct {
		ProductID      string `json:"product_id"`
		Quantity       int    `json:"quantity"`
		UnitPriceCents int64  `json:"unit_price_cents"`
	} `json:"items"`
	ShippingAddress map[string]string `json:"shipping_address"`
}

// createOrder places a pending order as the token's owner and returns it.
func (t *Target) createOrder(ctx context.Context, token, note string) (order, error) {
	body, _ := json.Marshal(map[string]any{
		"items":            []map[string]any{{"product_id": productKeyboard, "quantity": 1}, {"product_id": productCable, "quantity": 2}},
		"shipping_address": validAddress(),
		"note":             note,
	})
	x, err := t.send(ctx, request{method: http.MethodPost, path: "/api/v1/orders", body: string(body), token: token})
	if err != nil {
		return order{}, err
	}
	if x.status != http.StatusCreated {
		return order{}, fmt.Errorf("control: create order failed: %s", x)
	}
	var o order
	if err := json.Unmarshal(x.body, &o); err != nil || o.ID == "" {
		return order{}, fmt.Errorf("control: no order in %s", x)
	}
	return o, nil
}

// getOrder reads an order as the token's owner.
func (t *Target) getOrder(ctx context.Context, token, id string) (order, *exchange, error) {
	x, err := t.send(ctx, request{method: http.MethodGet, path: "/api/v1/orders/" + id, token: token})
	if err != nil {
		return order{}, nil, err
	}
	var o order
	if x.status == http.StatusOK {
		if err := json.Unmarshal(x.body, &o); err != nil {
			return order{}, x, fmt.Errorf("decode order: %w", err)
		}
	}
	return o, x, nil
}

// listOrderIDs returns the ids on the first page of the token owner's list.
func (t *Target) listOrderIDs(ctx context.Context, token, query string) ([]string, *exchange, error) {
	x, err := t.send(ctx, request{method: http.MethodGet, path: "/api/v1/orders" + query, token: token})
	if err != nil {
		return nil, nil, err
	}
	var page struct {
		Items []order `json:"items"`
	}
	_ = json.Unmarshal(x.body, &page)
	ids := make([]string, 0, len(page.Items))
	for _, o := range page.Items {
		ids = append(ids, o.ID)
	}
	return ids, x, nil
}

// aliceAndBob logs both customers in and creates a fresh pending order for
// alice: the victim's object every BOLA attack goes after.
func (t *Target) aliceAndBob(ctx context.Context) (alice, bob tokens, victim order, err error) {
	if alice, err = t.login(ctx, t.Alice); err != nil {
		return
	}
	if bob, err = t.login(ctx, t.Bob); err != nil {
		return
	}
	victim, err = t.createOrder(ctx, alice.AccessToken, "alice's private note")
	return
}
