package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// client is a small JSON client for the functional order tests.
type client struct {
	t     *testing.T
	base  string
	token string
}

func (c client) do(method, path, body string) (int, map[string]any) {
	c.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequestWithContext(context.Background(), method, c.base+path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	out := map[string]any{}
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

func login(t *testing.T, srv *server, email string) client {
	t.Helper()
	acct := srv.Target.Alice
	switch email {
	case srv.Target.Bob.Email:
		acct = srv.Target.Bob
	case srv.Target.Admin.Email:
		acct = srv.Target.Admin
	}
	tok, err := srv.Target.Login(context.Background(), acct)
	if err != nil {
		t.Fatal(err)
	}
	return client{t: t, base: srv.URL, token: tok}
}

const orderBody = `{"items":[{"product_id":"9e000000-0000-4000-8000-000000000001","quantity":1},{"product_id":"9e000000-0000-4000-8000-000000000004","quantity":2}],
"shipping_address":{"name":"Alice Example","line1":"1 Main Street","city":"Springfield","postal_code":"12345","country":"US"},"note":"hi"}`

// The total and the unit prices are the catalogue's: 1 × 89.00 + 2 × 12.99.
func TestOrderTotalsComeFromCatalogue(t *testing.T) {
	srv := startServer(t, nil)
	alice := login(t, srv, srv.Target.Alice.Email)
	status, o := alice.do(http.MethodPost, "/api/v1/orders", orderBody)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, o)
	}
	if o["total_cents"] != float64(8900+2*1299) || o["status"] != "pending" || o["currency"] != "EUR" {
		t.Errorf("order %v: want total 11498 EUR, pending", o)
	}
	items, _ := o["items"].([]any)
	if len(items) != 2 || items[0].(map[string]any)["unit_price_cents"] != float64(8900) || items[1].(map[string]any)["unit_price_cents"] != float64(1299) {
		t.Errorf("items %v: want catalogue unit prices 8900 and 1299", items)
	}
}

// Walking every page of every sort returns each order exactly once, in
// order, and the cursor of one sort does not work for another.
func TestKeysetPaginationWalksEveryOrderOnce(t *testing.T) {
	srv := startServer(t, nil)
	alice := login(t, srv, srv.Target.Alice.Email)
	for range 7 {
		if status, o := alice.do(http.MethodPost, "/api/v1/orders", orderBody); status != http.StatusCreated {
			t.Fatalf("create: %d %v", status, o)
		}
	}
	for _, sort := range []string{"created_at", "-created_at", "total", "-total"} {
		t.Run(sort, func(t *testing.T) {
			var ids []string
			var keys []float64
			cursor := ""
			for page := 0; page < 20; page++ {
				q := "/api/v1/orders?limit=2&sort=" + sort
				if cursor != "" {
					q += "&cursor=" + cursor
				}
				status, body := alice.do(http.MethodGet, q, "")
				if status != http.StatusOK {
					t.Fatalf("page %d: %d %v", page, status, body)
				}
				for _, it := range body["items"].([]any) {
					o := it.(map[string]any)
					ids = append(ids, o["id"].(string))
					keys = append(keys, o["total_cents"].(float64))
				}
				next, _ := body["next_cursor"].(string)
				if next == "" {
					break
				}
				cursor = next
			}
			if len(ids) != 9 { // 2 seeded + 7 created
				t.Fatalf("walked %d orders, want 9: %v", len(ids), ids)
			}
			seen := map[string]bool{}
			for _, id := range ids {
				if seen[id] {
					t.Errorf("order %s returned twice", id)
				}
				seen[id] = true
			}
			if sort == "total" && !slices.IsSorted(keys) {
				t.Errorf("totals not ascending: %v", keys)
			}
			if sort == "-total" && !slices.IsSortedFunc(keys, func(a, b float64) int { return int(b - a) }) {
				t.Errorf("totals not descending: %v", keys)
			}
		})
	}
	_, first := alice.do(http.MethodGet, "/api/v1/orders?limit=1&sort=total", "")
	cursor, _ := first["next_cursor"].(string)
	if status, _ := alice.do(http.MethodGet, "/api/v1/orders?limit=1&sort=-total&cursor="+cursor, ""); status != http.StatusBadRequest {
		t.Errorf("a total cursor replayed for -total answered %d, want 400", status)
	}
}

// Customers change an order only while pending; staff move it through the
// allowed transitions only.
func TestOrderLifecycle(t *testing.T) {
	srv := startServer(t, nil)
	alice := login(t, srv, srv.Target.Alice.Email)
	staff := login(t, srv, srv.Target.Admin.Email)
	_, o := alice.do(http.MethodPost, "/api/v1/orders", orderBody)
	id, _ := o["id"].(string)
	steps := []struct {
		who    client
		method string
		path   string
		body   string
		want   int
	}{
		{alice, http.MethodPatch, "/api/v1/orders/" + id, `{"note":"updated"}`, http.StatusOK},
		{alice, http.MethodPatch, "/api/v1/orders/" + id, `{}`, http.StatusBadRequest},
		{staff, http.MethodPatch, "/api/v1/admin/orders/" + id, `{"status":"shipped"}`, http.StatusConflict}, // pending → shipped skips paid
		{staff, http.MethodPatch, "/api/v1/admin/orders/" + id, `{"status":"paid","internal_note":"paid by card"}`, http.StatusOK},
		{alice, http.MethodPatch, "/api/v1/orders/" + id, `{"note":"too late"}`, http.StatusConflict},
		{staff, http.MethodPatch, "/api/v1/admin/orders/" + id, `{"status":"bogus"}`, http.StatusBadRequest},
		{alice, http.MethodPost, "/api/v1/orders/" + id + "/cancel", ``, http.StatusOK},
		{alice, http.MethodPost, "/api/v1/orders/" + id + "/cancel", ``, http.StatusConflict},
		{staff, http.MethodPatch, "/api/v1/admin/orders/" + id, `{"status":"paid"}`, http.StatusConflict}, // cancelled is final
		{staff, http.MethodPatch, "/api/v1/admin/orders/00000000-0000-4000-8000-000000000000", `{"status":"paid"}`, http.StatusNotFound},
	}
	for i, s := range steps {
		if got, body := s.who.do(s.method, s.path, s.body); got != s.want {
			t.Errorf("step %d: %s %s %s → %d, want %d (%v)", i, s.method, s.path, s.body, got, s.want, body)
		}
	}
	_, final := alice.do(http.MethodGet, "/api/v1/orders/"+id, "")
	if final["status"] != "cancelled" || final["note"] != "updated" {
		t.Errorf("final order %v: want cancelled with note \"updated\"", final)
	}
	_, list := staff.do(http.MethodGet, "/api/v1/admin/orders?status=cancelled", "")
	if !strings.Contains(fmt.Sprint(list), "paid by card") {
		t.Errorf("staff list lacks the internal note: %v", list)
	}
}
