package tests

import (
	"net/http"
	"testing"
)

// A load balancer's probe never gets a 429: with this address's per-IP
// allowance spent, the API answers 429 and both probes still answer 200.
func TestProbesAnswerBeforeThePerIPLimit(t *testing.T) {
	srv := startServer(t, nil)
	limited := false
	for range 400 {
		if jsonCall(t, srv.URL, http.MethodGet, "/api/v1/products", "", nil, nil) == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("control: 400 requests from one address never answered 429")
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if s := jsonCall(t, srv.URL, http.MethodGet, path, "", nil, nil); s != http.StatusOK {
			t.Errorf("GET %s with the address's allowance spent: %d, want 200", path, s)
		}
	}
	if s := jsonCall(t, srv.URL, http.MethodGet, "/api/v1/products", "", nil, nil); s != http.StatusTooManyRequests {
		t.Errorf("control: the API after the probes answered %d, want 429 still", s)
	}
}
