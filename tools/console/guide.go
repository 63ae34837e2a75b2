//go:build workshop

package console

// guide is what the console shows on an issue's card besides its switch
// and its attacks: a title, the story in one line, and where to read more.
// Paths are relative to the repository root.
type guide struct {
	Title  string   `json:"title"`
	Story  string   `json:"story"`
	Docs   string   `json:"docs"`
	Secure []string `json:"secure_code"`
	// Variants is the code of the vulnerable and naive variants.
	Variants []string `json:"variant_code"`
}

// guides are the cards' texts, by issue slug (workshop.Issues). An issue
// without one still gets a card, titled by its slug and pointing at the
// workshop guide; TestEveryIssueHasAGuide asks for the entry.
func guides() map[string]guide {
	return map[string]guide{
		"bola": {
			Title: "Broken object-level authorization",
			Story: "Bob reads, changes and cancels alice's order by its id.",
			Docs:  "docs/01-bola.md", Secure: []string{"internal/orders/store.go", "internal/orders/handler.go", "db/queries/orders.sql"},
			Variants: []string{"internal/workshop/bola.go"},
		},
		"mass-assignment": {
			Title: "Mass assignment",
			Story: `Alice sends {"name":"Alice","role":"admin"} to PATCH /users/me and becomes an admin.`,
			Docs:  "docs/02-mass-assignment.md", Secure: []string{"internal/auth/dto.go", "internal/web/bind.go"},
			Variants: []string{"internal/workshop/massassign.go"},
		},
		"exposure": {
			Title: "Excessive data exposure",
			Story: "GET /users/me returns the database row: password hash, token version and whatever column comes next.",
			Docs:  "docs/03-data-exposure.md", Secure: []string{"internal/auth/dto.go"},
			Variants: []string{"internal/workshop/exposure.go"},
		},
		"ratelimit": {
			Title: "Missing rate limits",
			Story: "An attacker guesses alice's password as fast as the server hashes, then resets the limit with X-Forwarded-For.",
			Docs:  "docs/04-rate-limiting.md", Secure: []string{"internal/app/limits.go", "internal/web/clientip.go", "internal/auth/handler.go"},
			Variants: []string{"internal/workshop/ratelimit.go"},
		},
		"sqli": {
			Title: "SQL injection through sort",
			Story: "GET /orders?sort=… is pasted into ORDER BY: a sleep runs, and the row order answers questions about the admin's hash.",
			Docs:  "docs/05-sql-injection.md", Secure: []string{"internal/orders/list.go", "db/queries/orders.sql"},
			Variants: []string{"internal/workshop/sqli.go"},
		},
		"files": {
			Title: "Insecure file access",
			Story: "A download key of ../../etc/passwd reads outside the storage directory; the naive filter strips ../ once.",
			Docs:  "docs/06-file-access.md", Secure: []string{"internal/files/localfs/localfs.go", "internal/files/localfs/signer.go", "internal/files/handler.go"},
			Variants: []string{"internal/workshop/files.go"},
		},
		"validation": {
			Title: "Nested validation and stored XSS",
			Story: "Markup in a shipping address is stored, and the staff dashboard runs it.",
			Docs:  "docs/07-nested-validation.md", Secure: []string{"internal/web/validate.go", "internal/orders/dto.go", "internal/admin/dashboard/render.js"},
			Variants: []string{"internal/workshop/validation.go", "internal/workshop/dashboard.go"},
		},
		"errors": {
			Title: "Verbose errors",
			Story: "Registering a taken email answers with PostgreSQL's own words: the table, the constraint, the SQLSTATE.",
			Docs:  "docs/08-errors.md", Secure: []string{"internal/web/errors.go", "internal/auth/store.go"},
			Variants: []string{"internal/workshop/errors.go"},
		},
		"cors": {
			Title: "Misconfigured CORS",
			Story: "Any site the victim visits reads their API answers: the server reflects every Origin, with credentials.",
			Docs:  "docs/09-cors.md", Secure: []string{"internal/web/cors.go"},
			Variants: []string{"internal/workshop/cors.go"},
		},
		"ssrf": {
			Title: "Server-side request forgery",
			Story: "Attach a file from a URL, and the server fetches the cloud metadata service's credentials for you.",
			Docs:  "docs/10-ssrf.md", Secure: []string{"internal/outbound/fetch.go"},
			Variants: []string{"internal/workshop/ssrf.go"},
		},
		"webhook": {
			Title: "Trusting the payment webhook",
			Story: "An unsigned event pays alice's order; a signed one is replayed, or pays an expensive order with a cheap amount.",
			Docs:  "docs/11-third-party-data.md", Secure: []string{"internal/payments/signature.go", "internal/payments/store.go"},
			Variants: []string{"internal/workshop/webhook.go"},
		},
		"business-flows": {
			Title: "Business flows and races",
			Story: "Thirty orders sent at the same instant buy 10 units thirty times over, spend a two-use coupon twenty times, refund an order thirty times.",
			Docs:  "docs/12-business-flows.md",
			Secure: []string{"internal/orders/stock.go", "internal/coupons/redeem.go", "internal/admin/refund.go", "internal/orders/cancel.go",
				"internal/idempotency/idempotency.go", "db/queries/business_flows.sql"},
			Variants: []string{"internal/workshop/flows.go"},
		},
	}
}

// guideFor returns issue's guide, or a plain one for an issue that has
// none yet.
func guideFor(issue string) guide {
	if g, ok := guides()[issue]; ok {
		return g
	}
	return guide{Title: issue, Story: "(no story yet: add one to tools/console/guide.go)", Docs: "docs/workshop.md"}
}
