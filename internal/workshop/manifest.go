//go:build workshop

package workshop

import (
	"slices"
	"time"
)

// Exposure is one place an issue's variant can be exploited: the route, the
// parameter the attack goes through, and the weakness. It is the ground
// truth a scanner's findings are scored against (attack score,
// docs/workshop.md): a scanner that reports sort on GET /api/v1/orders as
// SQL injection while sqli is vulnerable found something true; the same
// report while sqli is secure is a false positive.
type Exposure struct {
	Issue   string  `json:"issue"`
	Variant Variant `json:"variant"`
	Method  string  `json:"method"` // "*": any method
	// Path is written as OpenAPI writes it ({id} for one segment); a
	// trailing "/*" means anything below.
	Path      string `json:"path"`
	Parameter string `json:"parameter,omitempty"` // "" when the whole request is the problem
	In        string `json:"in,omitempty"`        // query, path, header, body or response
	CWE       string `json:"cwe"`
}

// surfaces are where each issue's variants are exploitable, by issue. A
// variant changes how a route behaves, not which routes there are, so the
// surface is the same for vulnerable and naive; what a naive variant still
// lets through is in its doc comment and in docs/workshop.md.
func surfaces() map[string][]Exposure {
	ordersByID := func(method, path string) Exposure {
		return Exposure{Method: method, Path: path, Parameter: "id", In: "path", CWE: "CWE-639"}
	}
	return map[string][]Exposure{
		"bola": {
			ordersByID("GET", "/api/v1/orders/{id}"),
			ordersByID("PATCH", "/api/v1/orders/{id}"),
			ordersByID("POST", "/api/v1/orders/{id}/cancel"),
			ordersByID("GET", "/api/v1/orders/{id}/files"),
			ordersByID("POST", "/api/v1/orders/{id}/files"),
		},
		"mass-assignment": {{Method: "PATCH", Path: "/api/v1/users/me", Parameter: "role", In: "body", CWE: "CWE-915"}},
		"exposure":        {{Method: "GET", Path: "/api/v1/users/me", In: "response", CWE: "CWE-213"}},
		"ratelimit": {
			{Method: "POST", Path: "/api/v1/auth/login", Parameter: "password", In: "body", CWE: "CWE-307"},
			{Method: "POST", Path: "/api/v1/auth/login", Parameter: "X-Forwarded-For", In: "header", CWE: "CWE-348"},
		},
		"sqli":  {{Method: "GET", Path: "/api/v1/orders", Parameter: "sort", In: "query", CWE: "CWE-89"}},
		"files": {{Method: "GET", Path: "/api/v1/downloads", Parameter: "key", In: "query", CWE: "CWE-22"}},
		"validation": {
			{Method: "POST", Path: "/api/v1/orders", Parameter: "shipping_address", In: "body", CWE: "CWE-79"},
			{Method: "POST", Path: "/api/v1/orders", Parameter: "items", In: "body", CWE: "CWE-20"},
			{Method: "GET", Path: "/admin/", In: "response", CWE: "CWE-79"},
		},
		"errors": {
			{Method: "POST", Path: "/api/v1/auth/register", Parameter: "email", In: "body", CWE: "CWE-209"},
			{Method: "PATCH", Path: "/api/v1/users/me", In: "body", CWE: "CWE-209"},
		},
		"cors":    {{Method: "*", Path: "/api/v1/*", Parameter: "Origin", In: "header", CWE: "CWE-942"}},
		"ssrf":    {{Method: "POST", Path: "/api/v1/orders/{id}/files/import", Parameter: "url", In: "body", CWE: "CWE-918"}},
		"webhook": {{Method: "POST", Path: "/api/v1/webhooks/payments", In: "body", CWE: "CWE-345"}},
		// Races (CWE-362): each is a valid request, exploitable only as a
		// parallel burst; the naive variant is exploitable the same way.
		"business-flows": {
			{Method: "POST", Path: "/api/v1/orders", Parameter: "items", In: "body", CWE: "CWE-362"},
			{Method: "POST", Path: "/api/v1/orders", Parameter: "coupon_code", In: "body", CWE: "CWE-362"},
			{Method: "POST", Path: "/api/v1/orders", Parameter: "Idempotency-Key", In: "header", CWE: "CWE-362"},
			{Method: "POST", Path: "/api/v1/orders/{id}/cancel", Parameter: "id", In: "path", CWE: "CWE-362"},
			{Method: "POST", Path: "/api/v1/admin/orders/{id}/refund", Parameter: "id", In: "path", CWE: "CWE-362"},
		},
	}
}

// Surface returns where issue's variants are exploitable; nil for an issue
// that declares none yet (TestEveryIssueHasASurface names it).
func Surface(issue string) []Exposure {
	return slices.Clone(surfaces()[issue])
}

// Manifest is what is vulnerable right now, machine-readable: every
// exposure of each switch that is not secure, and, so that a finding there
// can be scored as a false positive, the surfaces of the secure ones.
type Manifest struct {
	GeneratedAt time.Time          `json:"generated_at"`
	Switches    map[string]Variant `json:"switches"`
	Vulnerable  []Exposure         `json:"vulnerable"`
	Secure      []Exposure         `json:"secure"`
}

// Manifest returns the board's manifest now.
func (b *Board) Manifest() Manifest {
	m := Manifest{GeneratedAt: time.Now().UTC(), Switches: b.Snapshot(), Vulnerable: []Exposure{}, Secure: []Exposure{}}
	for _, issue := range Issues() {
		v := m.Switches[issue]
		for _, e := range Surface(issue) {
			e.Issue, e.Variant = issue, v
			if v == Secure {
				m.Secure = append(m.Secure, e)
			} else {
				m.Vulnerable = append(m.Vulnerable, e)
			}
		}
	}
	return m
}
