//go:build workshop

package tests

import (
	"net/http"
	"strings"
	"testing"
)

// The facilitator's routes (switches, reset, the console and its API)
// answer only to this machine, speaking to this machine: a loopback peer
// (TestWorkshopSwitchesFlipLive and the rest use one), a loopback Host
// (not a name a web page re-pointed at 127.0.0.1: DNS rebinding) and no
// foreign Origin (a cross-site form: CSRF).
func TestFacilitatorRoutesRefuseRebindingAndCrossSite(t *testing.T) {
	srv := startServer(t, nil)
	host := strings.TrimPrefix(srv.URL, "http://")
	tests := []struct {
		name   string
		method string
		path   string
		header map[string]string
		want   int
	}{
		{"the console page", http.MethodGet, "/workshop/", nil, http.StatusOK},
		{"the manifest", http.MethodGet, "/workshop/api/manifest", nil, http.StatusOK},
		{"the console's own origin", http.MethodPost, "/workshop/api/run?issue=not-an-issue", map[string]string{"Origin": "http://" + host}, http.StatusBadRequest},
		{"localhost by name", http.MethodGet, "/workshop/switches", map[string]string{"Host": "localhost"}, http.StatusOK},
		{"a rebound name", http.MethodGet, "/workshop/switches", map[string]string{"Host": "attacker.example:" + strings.Split(host, ":")[1]}, http.StatusForbidden},
		{"a rebound name, the console", http.MethodGet, "/workshop/", map[string]string{"Host": "attacker.example"}, http.StatusForbidden},
		{"a cross-site reset", http.MethodPost, "/workshop/reset", map[string]string{"Origin": "https://attacker.example"}, http.StatusForbidden},
		{"a cross-site run", http.MethodPost, "/workshop/api/run?issue=sqli", map[string]string{"Origin": "null"}, http.StatusForbidden},
		{"a cross-site switch", http.MethodPut, "/workshop/switches", map[string]string{"Origin": "http://127.0.0.1:1"}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), tt.method, srv.URL+tt.path, strings.NewReader(`{"bola":"vulnerable"}`))
			for k, v := range tt.header {
				if k == "Host" {
					req.Host = v
					continue
				}
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("%s %s %v: %d, want %d", tt.method, tt.path, tt.header, resp.StatusCode, tt.want)
			}
		})
	}
	if got := httpGet(t, srv.URL+"/workshop/switches"); !strings.Contains(got, `"bola":"secure"`) {
		t.Errorf("a refused request changed a switch: %s", got)
	}
}
