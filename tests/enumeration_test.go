package tests

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// Enumeration is answered (docs/01-bola.md): a customer who asks for many
// order ids that are not theirs is refused with 429 and the RateLimit
// headers of the misses policy once the misses are used up, is reported
// with their user id, and keeps the rest of the API; another customer
// notices nothing. TestNormalUseRaisesNoSecurityEvents is the other half:
// a few stale links are no signal.
func TestEnumerationIsSlowedAndReported(t *testing.T) {
	srv := startServer(t, nil)
	ctx := context.Background()
	bob, alice := login(t, srv, srv.Target.Bob.Email), login(t, srv, srv.Target.Alice.Email)
	before := scrape(t, srv)

	const allowance = 20 // app.DefaultLimits().Misses
	for i := range allowance {
		status, h, err := get(ctx, http.DefaultClient, srv.URL+"/api/v1/orders/"+uuid.NewString(), bob.token)
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusNotFound || !strings.Contains(h.Get("RateLimit"), `"misses"`) {
			t.Fatalf("miss %d: %d RateLimit=%q, want 404 counted against the misses policy", i+1, status, h.Get("RateLimit"))
		}
	}
	// Alice's real order too: the probe is slowed, whatever it asks for.
	for _, id := range []string{uuid.NewString(), aliceOrder} {
		status, h, err := get(ctx, http.DefaultClient, srv.URL+"/api/v1/orders/"+id, bob.token)
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusTooManyRequests || h.Get("Retry-After") == "" || !strings.Contains(h.Get("RateLimit-Policy"), `"misses"`) {
			t.Fatalf("after %d misses: %d %v, want 429 with Retry-After and the misses policy", allowance, status, h)
		}
	}
	if status, _ := bob.do(http.MethodGet, "/api/v1/users/me", ""); status != http.StatusOK {
		t.Errorf("the prober's other routes: %d, want 200", status)
	}
	if status, _ := alice.do(http.MethodGet, "/api/v1/orders/"+aliceOrder, ""); status != http.StatusOK {
		t.Errorf("another customer's own order: %d, want 200", status)
	}

	var bobID string
	if _, me := bob.do(http.MethodGet, "/api/v1/users/me", ""); me != nil {
		bobID, _ = me["id"].(string)
	}
	var reported bool
	for _, ev := range securityEvents(srv) {
		checkEventFields(t, ev)
		if ev.Kind == "enumeration" {
			reported = ev.UserID == bobID && ev.Route == "/api/v1/orders/:id" && ev.Reason == "misses"
		}
	}
	if !reported {
		t.Errorf("no enumeration event names bob and the route template: %+v", securityEvents(srv))
	}
	after := scrape(t, srv)
	for _, series := range []string{
		`bulwark_security_events_total{kind="enumeration",reason="misses"}`,
		`bulwark_security_events_total{kind="rate_limited",reason="misses"}`,
		`bulwark_ratelimit_decisions_total{decision="refused",policy="misses"}`,
	} {
		if after[series] <= before[series] {
			t.Errorf("%s did not move", series)
		}
	}
}
