package attack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Broken object level authorization (OWASP API1:2023, CWE-639). Bob holds
// a valid account and alice's order id (ids leak: in URLs, logs, support
// tickets) and tries every route that takes an id.
func bolaAttacks() []Attack {
	return []Attack{
		{
			ID: "bola/read-order", Issue: "bola", OWASP: "API1:2023", CWE: "CWE-639",
			Story: "Bob reads alice's order by its id.",
			Run:   bolaRead,
		},
		{
			ID: "bola/enumerate-ids", Issue: "bola", OWASP: "API1:2023", CWE: "CWE-204",
			Story: "Bob compares the answers for alice's order id and an id that does not exist, to learn which ids are real.",
			Run:   bolaEnumerate,
		},
		{
			ID: "bola/patch-order", Issue: "bola", OWASP: "API1:2023", CWE: "CWE-639",
			Story: "Bob changes the shipping address and note of alice's order.",
			Run: func(ctx context.Context, t *Target) (Result, error) {
				body, _ := json.Marshal(map[string]any{"note": "redirected by bob", "shipping_address": map[string]any{
					"name": "Bob Example", "line1": "22 Side Road", "city": "Shelbyville", "postal_code": "54321", "country": "US"}})
				return bolaWrite(ctx, t, http.MethodPatch, "", string(body))
			},
		},
		{
			ID: "bola/cancel-order", Issue: "bola", OWASP: "API1:2023", CWE: "CWE-639",
			Story: "Bob cancels alice's order.",
			Run: func(ctx context.Context, t *Target) (Result, error) {
				return bolaWrite(ctx, t, http.MethodPost, "/cancel", "")
			},
		},
		{
			ID: "bola/list-orders", Issue: "bola", OWASP: "API1:2023", CWE: "CWE-639",
			Story: "Bob lists orders with every sort and filter, looking for anyone else's.",
			Run:   bolaList,
		},
		{
			ID: "bola/id-variants", Issue: "bola", OWASP: "API1:2023", CWE: "CWE-639",
			Story: "Bob sends alice's id upper-cased, braced, with trailing bytes or path tricks.",
			Run:   bolaIDVariants,
		},
	}
}

func bolaRead(ctx context.Context, t *Target) (Result, error) {
	_, bob, victim, err := t.aliceAndBob(ctx)
	if err != nil {
		return Result{}, err
	}
	_, x, err := t.getOrder(ctx, bob.AccessToken, victim.ID)
	if err != nil {
		return Result{}, err
	}
	if x.status == http.StatusOK || strings.Contains(string(x.body), "alice's private note") {
		return exploited("bob read alice's order: %s", x)
	}
	return blocked("bob was refused alice's order: %s", x)
}

// bolaEnumerate asks for alice's order and for one that does not exist. A
// 403 for "exists but not yours" against a 404 for "does not exist" (or any
// other difference) lets bob probe which ids exist, even if he reads none.
func bolaEnumerate(ctx context.Context, t *Target) (Result, error) {
	_, bob, victim, err := t.aliceAndBob(ctx)
	if err != nil {
		return Result{}, err
	}
	_, x, err := t.getOrder(ctx, bob.AccessToken, victim.ID)
	if err != nil {
		return Result{}, err
	}
	_, missing, err := t.getOrder(ctx, bob.AccessToken, "00000000-0000-4000-8000-000000000000")
	if err != nil {
		return Result{}, err
	}
	if x.status != missing.status || normalizeProblem(x.body) != normalizeProblem(missing.body) {
		return exploited("alice's order answers %d %s, a missing one %d %s: existence leaks",
			x.status, clip(normalizeProblem(x.body), 200), missing.status, clip(normalizeProblem(missing.body), 200))
	}
	return blocked("alice's order and a missing one both answer %d %s", x.status, normalizeProblem(x.body))
}

// bolaWrite sends a write to alice's order as bob, then reads the order
// back as alice: the write must be refused and must have changed nothing.
func bolaWrite(ctx context.Context, t *Target, method, suffix, body string) (Result, error) {
	alice, bob, victim, err := t.aliceAndBob(ctx)
	if err != nil {
		return Result{}, err
	}
	x, err := t.send(ctx, request{method: method, path: "/api/v1/orders/" + victim.ID + suffix, body: body, token: bob.AccessToken})
	if err != nil {
		return Result{}, err
	}
	after, _, err := t.getOrder(ctx, alice.AccessToken, victim.ID)
	if err != nil {
		return Result{}, err
	}
	switch {
	case after.Status != victim.Status || after.Note != victim.Note || after.ShippingAddress["line1"] != victim.ShippingAddress["line1"]:
		return exploited("bob changed alice's order (status %s→%s, note %q→%q): %s", victim.Status, after.Status, victim.Note, after.Note, x)
	case x.status != http.StatusNotFound:
		return exploited("refused, but with %d instead of the 404 a missing order gets: %s", x.status, x)
	}
	return blocked("404 and alice's order unchanged: %s", x)
}

func bolaList(ctx context.Context, t *Target) (Result, error) {
	_, bob, victim, err := t.aliceAndBob(ctx)
	if err != nil {
		return Result{}, err
	}
	// Bob's own order: his lists must have rows for the check to prove
	// anything, whoever bob is (the demo account, or an isolated run's own).
	if _, err := t.createOrder(ctx, bob.AccessToken, "bob's own order"); err != nil {
		return Result{}, err
	}
	queries := []string{"", "?sort=created_at", "?sort=-created_at", "?sort=total", "?sort=-total", "?status=pending", "?status=paid", "?limit=100"}
	seen := 0
	for _, q := range queries {
		ids, x, err := t.listOrderIDs(ctx, bob.AccessToken, q)
		if err != nil {
			return Result{}, err
		}
		if x.status != http.StatusOK {
			return Result{}, fmt.Errorf("control: bob's own list failed: %s", x)
		}
		if slices.Contains(ids, victim.ID) || strings.Contains(string(x.body), "alice's private note") {
			return exploited("alice's order in bob's list %q: %s", q, x)
		}
		seen += len(ids)
	}
	if seen == 0 {
		return Result{}, fmt.Errorf("control: bob's lists were empty, the check proves nothing")
	}
	return blocked("%d list variants, %d rows seen, all bob's own", len(queries), seen)
}

func bolaIDVariants(ctx context.Context, t *Target) (Result, error) {
	_, bob, victim, err := t.aliceAndBob(ctx)
	if err != nil {
		return Result{}, err
	}
	variants := []string{
		strings.ToUpper(victim.ID),
		"{" + victim.ID + "}",
		"urn:uuid:" + victim.ID,
		strings.ReplaceAll(victim.ID, "-", ""),
		victim.ID + "%00",
		victim.ID + ".json",
		victim.ID + "/",
		"..%2f" + victim.ID,
		victim.ID + "%20",
	}
	for _, v := range variants {
		x, err := t.send(ctx, request{method: http.MethodGet, path: "/api/v1/orders/" + v, token: bob.AccessToken})
		if err != nil {
			return Result{}, err
		}
		if x.status == http.StatusOK || strings.Contains(string(x.body), "alice's private note") {
			return exploited("variant %q returned alice's order: %s", v, x)
		}
		if x.status >= 500 {
			return exploited("variant %q caused a server error: %s", v, x)
		}
	}
	return blocked("%d id variants, none returned alice's order", len(variants))
}
