package attack

import (
	"context"
	"fmt"
	"net/http"
)

// LegitimateOrigin is the front-end origin the tests and the demo allow.
// The look-alikes below are built from it.
const LegitimateOrigin = "https://app.example.com"

// CORS misconfiguration (OWASP API8:2023): a hostile page must not be able
// to read API responses with the victim's credentials.
func corsAttacks() []Attack {
	origins := []struct{ id, origin, story string }{
		{"evil-origin", "https://evil.example", "A page on an unrelated origin reads the API."},
		{"null-origin", "null", "A sandboxed iframe or file:// page sends Origin: null."},
		{"suffix-lookalike", LegitimateOrigin + ".evil.test", "An attacker domain that starts with the trusted origin."},
		{"prefix-lookalike", "https://evilapp.example.com", "An attacker domain that ends with the trusted host name."},
		{"scheme-downgrade", "http://app.example.com", "The trusted host over plain HTTP, where a network attacker can inject script."},
		{"port-variant", "https://app.example.com:8443", "The trusted host on another port."},
	}
	var out []Attack
	for _, o := range origins {
		out = append(out, Attack{
			ID: "cors/" + o.id, Issue: "cors", OWASP: "API8:2023", CWE: "CWE-942", Story: o.story,
			Run: func(ctx context.Context, t *Target) (Result, error) { return corsProbe(ctx, t, o.origin) },
		})
	}
	return out
}

func corsProbe(ctx context.Context, t *Target, origin string) (Result, error) {
	tok, err := t.login(ctx, t.Alice)
	if err != nil {
		return Result{}, err
	}
	simple, err := t.send(ctx, request{method: http.MethodGet, path: "/api/v1/users/me", token: tok.AccessToken,
		headers: map[string]string{"Origin": origin}})
	if err != nil {
		return Result{}, err
	}
	preflight, err := t.send(ctx, request{method: http.MethodOptions, path: "/api/v1/users/me",
		headers: map[string]string{"Origin": origin, "Access-Control-Request-Method": "PATCH", "Access-Control-Request-Headers": "authorization,content-type"}})
	if err != nil {
		return Result{}, err
	}
	for _, x := range []*exchange{simple, preflight} {
		acao := x.header.Get("Access-Control-Allow-Origin")
		if acao == origin || acao == "*" {
			// The conclusion first: the console shows the words before
			// the request as the verdict's reason.
			return exploited("a page on %s may read the answers: %s %s with Origin %s → Access-Control-Allow-Origin %q, Allow-Credentials %q",
				origin, x.method, x.path, origin, acao, x.header.Get("Access-Control-Allow-Credentials"))
		}
	}
	return blocked("Origin %s: no Access-Control-Allow-Origin on the request or the preflight (%s)", origin, varyNote(simple))
}

func varyNote(x *exchange) string {
	return fmt.Sprintf("Vary: %v", x.header.Values("Vary"))
}
