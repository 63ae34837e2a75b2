package tests

import (
	"net/http"
	"net/url"
	"testing"
)

// The catalogue is paged like the orders: walking it two at a time
// returns every product once, in sku order, and a bad parameter is a 400.
func TestProductsArePaged(t *testing.T) {
	srv := startServer(t, nil)
	alice := login(t, srv, srv.Target.Alice.Email)
	status, all := alice.do(http.MethodGet, "/api/v1/products?limit=100", "")
	if status != http.StatusOK || all["next_cursor"] != nil {
		t.Fatalf("one page of 100: %d %v", status, all)
	}
	want := len(all["items"].([]any))
	var skus []string
	cursor := ""
	for range 100 {
		path := "/api/v1/products?limit=2"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		status, page := alice.do(http.MethodGet, path, "")
		if status != http.StatusOK {
			t.Fatalf("%s: %d %v", path, status, page)
		}
		for _, it := range page["items"].([]any) {
			skus = append(skus, it.(map[string]any)["sku"].(string))
		}
		next, _ := page["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(skus) != want || want < 3 {
		t.Fatalf("walked %d products two at a time, the one page has %d (want more than 2)", len(skus), want)
	}
	for i := 1; i < len(skus); i++ {
		if skus[i-1] >= skus[i] {
			t.Errorf("skus out of order or repeated: %q then %q", skus[i-1], skus[i])
		}
	}
	for _, bad := range []string{"limit=0", "limit=101", "cursor=%25%25", "sort=name", "limit=2&limit=3"} {
		if status, _ := alice.do(http.MethodGet, "/api/v1/products?"+bad, ""); status != http.StatusBadRequest {
			t.Errorf("?%s: %d, want 400", bad, status)
		}
	}
}
