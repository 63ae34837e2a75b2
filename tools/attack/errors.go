package attack

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// internalMarkers are strings that only appear when implementation detail
// leaks: driver and SQL errors, stack traces, source paths, Go type names
// from the JSON decoder.
func internalMarkers() []string {
	return []string{"pgx", "SQLSTATE", "pq:", "syntax error at", "violates", "goroutine", ".go:", "runtime.", "panic",
		"duplicate key", "constraint", "/root/", "/home/", "/usr/", "json: cannot", "go-json", "unmarshal", "Go value", "int32", "int64", "struct {", "reflect", "echo"}
}

// Verbose errors (OWASP API8:2023): hostile input must get a clear, generic
// problem+json answer that reveals nothing about the implementation.
func errorAttacks() []Attack {
	return []Attack{{
		ID: "errors/server-error-detail", Issue: "errors", OWASP: "API8:2023", CWE: "CWE-209",
		Story: "Register an email that already exists, so the insert hits the unique constraint, and read the error for the database's own words.",
		Run:   serverErrorDetail,
	}, {
		ID: "errors/hostile-inputs", Issue: "errors", OWASP: "API8:2023", CWE: "CWE-209",
		Story: "Send malformed JSON, wrong types, huge numbers, bad encodings and odd media types, and read the errors for internals.",
		Run:   hostileInputs,
	}}
}

// serverErrorDetail provokes the error most services have somewhere: a
// database constraint the code did not translate. The secure service maps
// it to a 409 in its store; code that does not answers 500, and what the 500
// says is the question.
func serverErrorDetail(ctx context.Context, t *Target) (Result, error) {
	if err := t.ensure(ctx, t.Alice); err != nil {
		return Result{}, err
	}
	x, err := t.send(ctx, request{
		method: http.MethodPost, path: "/api/v1/auth/register",
		body: `{"email":"` + t.Alice.Email + `","password":"correct horse battery","name":"Mallory"}`,
	})
	if err != nil {
		return Result{}, err
	}
	body := strings.ToLower(string(x.body))
	for _, m := range internalMarkers() {
		if strings.Contains(body, strings.ToLower(m)) {
			return exploited("response reveals %q: %s", m, x)
		}
	}
	if x.status < 400 {
		return Result{}, fmt.Errorf("registering a taken email succeeded: %s", x)
	}
	return blocked("a taken email answers %d with nothing about the database: %s", x.status, x)
}

func hostileInputs(ctx context.Context, t *Target) (Result, error) {
	tok, err := t.login(ctx, t.Alice)
	if err != nil {
		return Result{}, err
	}
	patch := func(body, ctype string) request {
		return request{method: http.MethodPatch, path: "/api/v1/users/me", body: body, ctype: ctype, token: tok.AccessToken}
	}
	inputs := []request{
		patch(`{"name":`, ""),
		patch(`{"name":"x"}}`, ""),
		patch(`{"name":12345678901234567890123456789}`, ""),
		patch(`{"name":["a"]}`, ""),
		patch(`{"name":{"$gt":""}}`, ""),
		patch("{\"name\":\"\xff\xfe\"}", ""),
		patch(`{"name":"`+strings.Repeat("A", 5000)+`"}`, ""),
		patch(strings.Repeat("[", 10000), ""),
		patch(`name=admin`, "application/x-www-form-urlencoded"),
		patch(`<user><name>x</name></user>`, "application/xml"),
		patch(`{"name":"x"}`, "application/json; charset=utf-7"),
		patch(`{"name":"x'; DROP TABLE users;--"}`, ""),
		{method: http.MethodGet, path: "/api/v1/users/me", token: "not.a.jwt"},
		{method: http.MethodGet, path: "/api/v1/users/me", token: strings.Repeat("A", 3000)},
		{method: http.MethodPost, path: "/api/v1/auth/login", body: `{"email":null,"password":true}`},
		// A NUL byte is valid JSON but not storable text in PostgreSQL.
		{method: http.MethodPost, path: "/api/v1/auth/login", body: `{"email":"a\u0000b@example.com","password":"x"}`},
		{method: http.MethodPost, path: "/api/v1/auth/refresh", body: `{"refresh_token":"rt_\u0000"}`},
		{method: http.MethodPost, path: "/api/v1/auth/register", body: `{"email":"a@b.c","password":"` + strings.Repeat("p", 200) + `","name":"x"}`},
		{method: http.MethodPost, path: "/api/v1/auth/refresh", body: `{"refresh_token":"rt_' OR 1=1 --"}`},
		{method: http.MethodGet, path: "/api/v1/users/%00"},
		{method: http.MethodGet, path: "/api/v1/../../etc/passwd"},
		{method: http.MethodPost, path: "/api/v1/auth/login", body: `{"email":"a@b.c","password":"` + strings.Repeat("x", 2<<20) + `"}`},
	}
	for _, r := range inputs {
		x, err := t.send(ctx, r)
		if err != nil {
			return Result{}, err
		}
		if x.status >= 500 {
			return exploited("server error on hostile input: %s", x)
		}
		if x.status >= 400 {
			if ct := x.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
				return exploited("error is %q, not problem+json: %s", ct, x)
			}
		}
		body := strings.ToLower(string(x.body))
		for _, m := range internalMarkers() {
			if strings.Contains(body, strings.ToLower(m)) {
				return exploited("response reveals %q: %s", m, x)
			}
		}
	}
	return blocked("%d hostile inputs, every answer a 4xx problem+json with no internals", len(inputs))
}
