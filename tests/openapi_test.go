package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/api"
	"github.com/bulwark-dev/bulwark/internal/app"
	"github.com/bulwark-dev/bulwark/internal/config"
	"github.com/bulwark-dev/bulwark/tools/attack"
)

// OWASP API9 (improper inventory management): api/openapi.yaml must list
// exactly the routes the server serves, and what the server sends must be
// what the document says. These tests hold the two together.

// loadOpenAPI parses and validates the embedded document, as kin-openapi
// reads OpenAPI 3.1.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.Document())
	if err != nil {
		t.Fatalf("load api/openapi.yaml: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("api/openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("api/openapi.yaml declares OpenAPI %s; the contract is written for 3.1", doc.OpenAPI)
	}
	return doc
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	doc := loadOpenAPI(t)
	served := map[string]bool{}
	for _, r := range tableRoutes(t) {
		served[r.Method+" "+openAPIPath(r.Path)] = true
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	undocumented, stale := missingFrom(served, documented), missingFrom(documented, served)
	if len(undocumented) > 0 || len(stale) > 0 {
		t.Errorf("api/openapi.yaml and internal/app/routes.go disagree.\n"+
			"Served but not documented (document them in api/openapi.yaml):\n  %s\n"+
			"Documented but not served (remove them, or add the route):\n  %s",
			orNone(undocumented), orNone(stale))
	}
	if len(served) < 10 {
		t.Errorf("app.Routes listed only %d routes; the comparison above proves nothing", len(served))
	}
}

// tableRoutes returns the routes of internal/app/routes.go in the default
// development configuration, without the fallbacks that answer the paths
// no route matches.
func tableRoutes(t *testing.T) []app.Route {
	t.Helper()
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatalf("default development configuration: %v", err)
	}
	routes, err := app.Routes(cfg)
	if err != nil {
		t.Fatalf("build the routes: %v", err)
	}
	return slices.DeleteFunc(routes, func(r app.Route) bool { return r.Method == echo.RouteNotFound })
}

// openAPIPath writes an echo path as OpenAPI does: :id becomes {id}.
func openAPIPath(echoPath string) string {
	segments := strings.Split(echoPath, "/")
	for i, s := range segments {
		if name, ok := strings.CutPrefix(s, ":"); ok {
			segments[i] = "{" + name + "}"
		}
	}
	return strings.Join(segments, "/")
}

// missingFrom lists the keys of a that b lacks, sorted.
func missingFrom(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "(none)"
	}
	return strings.Join(list, "\n  ")
}

// conformance is an http.RoundTripper that checks every response against
// the document: the status must be documented for the operation, and the
// headers and body must match its schemas (additionalProperties: false
// included, so an undocumented field fails). A request the document does not
// know (an attack's made-up path or method) must get a problem+json error.
// Violations are reported on t; the response is handed on unchanged.
type conformance struct {
	t      *testing.T
	next   http.RoundTripper
	router routers.Router
	doc    *openapi3.T

	mu   sync.Mutex
	seen map[string][]int // operationId → statuses seen
}

func newConformance(t *testing.T, next http.RoundTripper) *conformance {
	t.Helper()
	doc := loadOpenAPI(t)
	// Match on the path alone: the test server is not the documented host.
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("openapi router: %v", err)
	}
	if next == nil {
		next = http.DefaultTransport
	}
	return &conformance{t: t, next: next, router: router, doc: doc, seen: map[string][]int{}}
}

// maxChecked is the largest body the check reads into memory; a larger one
// (a big download) is handed on as a stream, with its status and headers
// checked but not its bytes.
const maxChecked = 4 << 20

func (c *conformance) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxChecked+1))
	if err != nil {
		// A cut connection is not a contract violation; the caller sees
		// the same error when it reads.
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
		return resp, nil
	}
	streamed := len(body) > maxChecked
	if streamed {
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
		body = nil
	} else {
		_ = resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
	}
	if problem := c.check(req, resp, body, streamed); problem != "" {
		c.t.Errorf("response does not match api/openapi.yaml: %s %s → %d: %s\nbody: %s",
			req.Method, req.URL.RequestURI(), resp.StatusCode, problem, clipBody(body))
	}
	return resp, nil
}

// check returns what is wrong with the response, or "".
func (c *conformance) check(req *http.Request, resp *http.Response, body []byte, streamed bool) string {
	if req.Method == http.MethodHead {
		return "" // no body to check; ValidateResponse skips HEAD too
	}
	if resp.Header.Get("X-Request-Id") == "" && (resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusRequestHeaderFieldsTooLarge) {
		// Go's HTTP server refused a request it could not parse (a
		// malformed escape in the path, oversized headers) before the
		// service saw it: a plain-text answer from net/http, outside the
		// service's contract (see the note at the top of the document).
		return ""
	}
	if resp.StatusCode >= 400 && !streamed {
		if msg := checkRequestID(resp, body); msg != "" {
			return msg
		}
	}
	route, params, err := c.router.FindRoute(req)
	if errors.Is(err, routers.ErrPathNotFound) || errors.Is(err, routers.ErrMethodNotAllowed) {
		return c.checkUnknown(req, resp, body)
	}
	if err != nil {
		return "route lookup: " + err.Error()
	}
	c.mu.Lock()
	c.seen[route.Operation.OperationID] = append(c.seen[route.Operation.OperationID], resp.StatusCode)
	c.mu.Unlock()
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, ExcludeResponseBody: streamed},
	}
	input.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(req.Context(), input); err != nil {
		return err.Error()
	}
	return ""
}

// checkUnknown covers requests outside the document: they may only fail,
// and must fail as problem+json. A CORS preflight is answered by the CORS
// middleware for any path and is not part of the inventory.
func (c *conformance) checkUnknown(req *http.Request, resp *http.Response, body []byte) string {
	if req.Method == http.MethodOptions && resp.StatusCode < 400 {
		return ""
	}
	if resp.StatusCode < 400 {
		return fmt.Sprintf("a request the document does not list succeeded (%d): an undocumented route?", resp.StatusCode)
	}
	return c.checkProblem(resp, body)
}

func (c *conformance) checkProblem(resp *http.Response, body []byte) string {
	mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mediaType != "application/problem+json" {
		return fmt.Sprintf("error with Content-Type %q, want application/problem+json", resp.Header.Get("Content-Type"))
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return "problem body is not JSON"
	}
	schema := c.doc.Components.Schemas["Problem"].Value
	if err := schema.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.VisitAsResponse()); err != nil {
		return "problem body does not match #/components/schemas/Problem: " + err.Error()
	}
	return ""
}

// checkRequestID: an error body quotes the id the X-Request-Id header carries.
func checkRequestID(resp *http.Response, body []byte) string {
	var p struct {
		RequestID string `json:"request_id"`
	}
	if json.Unmarshal(body, &p) == nil && p.RequestID != resp.Header.Get("X-Request-Id") {
		return fmt.Sprintf("request_id %q differs from X-Request-Id %q", p.RequestID, resp.Header.Get("X-Request-Id"))
	}
	return ""
}

// statuses returns the statuses seen for an operation.
func (c *conformance) statuses(operationID string) []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.seen[operationID])
}

// allStatuses returns every status seen on a documented operation.
func (c *conformance) allStatuses() map[int]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	all := map[int]bool{}
	for _, statuses := range c.seen {
		for _, s := range statuses {
			all[s] = true
		}
	}
	return all
}

func clipBody(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// TestOpenAPIResponsesMatchTheDocument drives every documented operation
// through a real server, with a success and the error answers a client can
// provoke, and checks each response against the document. It then requires
// that every operation was seen succeeding, and that each main error status
// was reached, so a new route cannot go unexercised.
func TestOpenAPIResponsesMatchTheDocument(t *testing.T) {
	tp := startThirdParty(t)
	srv := startServer(t, tp.env)
	check := newConformance(t, nil)
	client := &http.Client{Transport: check}
	ctx := t.Context()
	c := &apiClient{t: t, base: srv.URL, http: client}

	c.expect(200, "GET", "/healthz", "", nil)
	c.expect(200, "GET", "/readyz", "", nil)
	c.expect(200, "GET", "/api/v1/openapi.yaml", "", nil)

	// auth
	c.expect(201, "POST", "/api/v1/auth/register", "", map[string]any{"email": "openapi@example.net", "password": "a-long-enough-password", "name": "Open API"})
	c.expect(409, "POST", "/api/v1/auth/register", "", map[string]any{"email": "openapi@example.net", "password": "a-long-enough-password", "name": "Open API"})
	c.expect(400, "POST", "/api/v1/auth/register", "", map[string]any{"email": "x@example.net", "password": "a-long-enough-password", "name": "X", "role": "admin"})
	c.send(415, "POST", "/api/v1/auth/register", "", "text/plain", strings.NewReader(`{"email":"y@example.net"}`))
	var tokens struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	login := map[string]any{"email": srv.Target.Alice.Email, "password": srv.Target.Alice.Password}
	c.decode(c.expect(200, "POST", "/api/v1/auth/login", "", login), &tokens)
	c.decode(c.expect(200, "POST", "/api/v1/auth/refresh", "", map[string]any{"refresh_token": tokens.RefreshToken}), &tokens)
	c.expect(401, "POST", "/api/v1/auth/refresh", "", map[string]any{"refresh_token": "rt_spent-or-made-up"})
	c.expect(204, "POST", "/api/v1/auth/logout", "", map[string]any{"refresh_token": tokens.RefreshToken})
	// Logout ended that session's access tokens too: sign in again.
	c.decode(c.expect(200, "POST", "/api/v1/auth/login", "", login), &tokens)
	alice := tokens.AccessToken
	admin, err := srv.Target.Login(ctx, srv.Target.Admin)
	if err != nil {
		t.Fatal(err)
	}

	// users
	c.expect(200, "GET", "/api/v1/users/me", alice, nil)
	c.expect(401, "GET", "/api/v1/users/me", "", nil)
	c.expect(401, "GET", "/api/v1/users/me", "not-a-jwt", nil)
	c.expect(200, "PATCH", "/api/v1/users/me", alice, map[string]any{"name": "Alice A."})
	c.expect(400, "PATCH", "/api/v1/users/me", alice, map[string]any{"name": "Alice", "role": "admin"})

	// catalogue and orders
	var products struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	c.decode(c.expect(200, "GET", "/api/v1/products", alice, nil), &products)
	if len(products.Items) == 0 {
		t.Fatal("the seeded catalogue is empty")
	}
	address := map[string]any{"name": "Alice Example", "line1": "1 Main Street", "city": "Berlin", "postal_code": "10115", "country": "DE"}
	var order struct {
		ID string `json:"id"`
	}
	c.decode(c.expect(201, "POST", "/api/v1/orders", alice, map[string]any{
		"items": []map[string]any{{"product_id": products.Items[0].ID, "quantity": 2}}, "shipping_address": address, "note": "ring twice\n<b>bold</b>",
	}), &order)
	c.expect(400, "POST", "/api/v1/orders", alice, map[string]any{"items": []map[string]any{}, "shipping_address": address})
	c.send(413, "POST", "/api/v1/orders", alice, "application/json", strings.NewReader(`{"note":"`+strings.Repeat("a", 2<<20)+`"}`))
	var page struct {
		NextCursor *string `json:"next_cursor"`
	}
	c.decode(c.expect(200, "GET", "/api/v1/orders?limit=1", alice, nil), &page)
	if page.NextCursor == nil {
		t.Fatal("alice has one order only; the cursor case was not reached")
	}
	c.expect(200, "GET", "/api/v1/orders?limit=1&cursor="+url.QueryEscape(*page.NextCursor), alice, nil)
	c.expect(200, "GET", "/api/v1/orders?sort=-total&status=pending", alice, nil)
	c.expect(400, "GET", "/api/v1/orders?sort=name;DROP%20TABLE%20orders", alice, nil)
	c.expect(200, "GET", "/api/v1/orders/"+order.ID, alice, nil)
	c.expect(404, "GET", "/api/v1/orders/00000000-0000-4000-8000-000000000000", alice, nil)
	c.expect(404, "GET", "/api/v1/orders/not-a-uuid", alice, nil)
	c.expect(200, "PATCH", "/api/v1/orders/"+order.ID, alice, map[string]any{"note": "leave at the door"})
	c.expect(400, "PATCH", "/api/v1/orders/"+order.ID, alice, map[string]any{"total_cents": 1})

	// files
	var file struct {
		ID string `json:"id"`
	}
	c.decode(c.upload(201, order.ID, alice, "invoice.txt", "plain text\n"), &file)
	c.upload(415, order.ID, alice, "page.html", "<!DOCTYPE html><html><script>alert(1)</script></html>")
	c.expect(200, "GET", "/api/v1/orders/"+order.ID+"/files", alice, nil)
	c.expect(200, "GET", "/api/v1/files/"+file.ID, alice, nil)
	var link struct {
		URL string `json:"url"`
	}
	c.decode(c.expect(200, "GET", "/api/v1/files/"+file.ID+"/download-url", alice, nil), &link)
	c.expect(200, "GET", link.URL, "", nil)
	c.expect(403, "GET", strings.Replace(link.URL, "signature=", "signature=A", 1), "", nil)
	c.expect(204, "DELETE", "/api/v1/files/"+file.ID, alice, nil)
	c.expect(404, "GET", "/api/v1/files/"+file.ID, alice, nil)

	// the third-party boundary (openapi_thirdparty_test.go)
	tp.exercise(c, alice, order.ID)

	// state conflicts
	c.expect(200, "POST", "/api/v1/orders/"+order.ID+"/cancel", alice, nil)
	c.expect(409, "POST", "/api/v1/orders/"+order.ID+"/cancel", alice, nil)
	c.expect(409, "PATCH", "/api/v1/orders/"+order.ID, alice, map[string]any{"note": "too late"})

	// staff
	c.expect(403, "GET", "/api/v1/admin/orders", alice, nil)
	c.expect(200, "GET", "/api/v1/admin/orders?limit=5", admin, nil)
	c.expect(200, "PATCH", "/api/v1/admin/orders/"+order.ID, admin, map[string]any{"internal_note": "checked"})
	c.expect(409, "PATCH", "/api/v1/admin/orders/"+order.ID, admin, map[string]any{"status": "shipped"})
	c.expect(400, "PATCH", "/api/v1/admin/orders/"+order.ID, admin, map[string]any{"status": "refunded"})
	c.expect(200, "GET", "/api/v1/admin/audit?action=order.update&limit=5", admin, nil)
	c.expect(400, "GET", "/api/v1/admin/audit?actor=nobody", admin, nil)
	c.expect(403, "GET", "/api/v1/admin/audit", alice, nil)

	// business flows (docs/12-business-flows.md): coupons, refunds and the
	// second factor. The sign-ins above spent the auth routes' allowance of
	// this address (10 a minute), so ops's sign-in waits out its 429 as a
	// client would (Target.Pace), rather than this test dropping a case.
	srv.Target.Pace = true
	ops, err := srv.Target.StaffToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	newCoupon := map[string]any{"percent_off": 10, "max_redemptions": 5, "expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}
	c.expect(403, "POST", "/api/v1/admin/coupons", admin, newCoupon) // no second factor
	var coupon struct {
		Code string `json:"code"`
	}
	c.decode(c.expect(201, "POST", "/api/v1/admin/coupons", ops, newCoupon), &coupon)
	c.expect(200, "GET", "/api/v1/admin/coupons", ops, nil)
	withCoupon := func(code string) map[string]any {
		return map[string]any{"items": []map[string]any{{"product_id": products.Items[0].ID, "quantity": 1}}, "shipping_address": address, "coupon_code": code}
	}
	c.expect(201, "POST", "/api/v1/orders", alice, withCoupon(coupon.Code))
	c.expect(409, "POST", "/api/v1/orders", alice, withCoupon(coupon.Code))
	c.expect(422, "POST", "/api/v1/orders", alice, withCoupon("ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ"))
	const paidOrder = "0de00000-0000-4000-8000-00000000a002" // alice's, seeded paid
	c.expect(403, "POST", "/api/v1/admin/orders/"+paidOrder+"/refund", admin, nil)
	c.expect(201, "POST", "/api/v1/admin/orders/"+paidOrder+"/refund", ops, nil)
	c.expect(409, "POST", "/api/v1/admin/orders/"+paidOrder+"/refund", ops, nil)
	c.expect(200, "GET", "/api/v1/admin/orders/"+paidOrder+"/refunds", admin, nil)
	c.expect(200, "GET", "/api/v1/admin/reports/mfa", admin, nil)
	// alice enrols last: her later sign-ins would need a code. Her token
	// stays valid.
	c.expect(401, "POST", "/api/v1/auth/mfa/enroll", alice, map[string]any{"password": "not-alices-password"})
	var enrolment struct {
		Secret string `json:"secret"`
	}
	c.decode(c.expect(201, "POST", "/api/v1/auth/mfa/enroll", alice, map[string]any{"password": srv.Target.Alice.Password}), &enrolment)
	code := func(at time.Time) string {
		t.Helper()
		code, err := attack.TOTPCode(enrolment.Secret, at)
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	c.expect(403, "POST", "/api/v1/auth/mfa/step-up", alice, map[string]any{"code": code(time.Now())}) // not confirmed yet
	c.expect(200, "POST", "/api/v1/auth/mfa/confirm", alice, map[string]any{"code": code(time.Now())})
	c.expect(409, "POST", "/api/v1/auth/mfa/enroll", alice, map[string]any{"password": srv.Target.Alice.Password})
	c.expect(200, "POST", "/api/v1/auth/mfa/step-up", alice, map[string]any{"code": code(time.Now().Add(30 * time.Second))})
	c.expect(401, "POST", "/api/v1/auth/mfa/step-up", alice, map[string]any{"code": code(time.Now().Add(30 * time.Second))}) // replayed

	// the staff dashboard's page and files
	for _, path := range []string{"/admin/", "/admin/app.js", "/admin/render.js", "/admin/app.css"} {
		c.expect(200, "GET", path, "", nil)
	}

	// Outside the document: an unknown path, and a method the path does not
	// serve (405 with Allow, after authentication), still get problem+json.
	c.expect(404, "GET", "/api/v1/nowhere", alice, nil)
	c.expect(405, "PUT", "/api/v1/users/me", alice, map[string]any{"name": "x"})

	// rate limiting: failed logins for one account back off, then 429
	wrong := map[string]any{"email": "openapi@example.net", "password": "wrong-password-guess"}
	got429 := false
	for range 12 {
		if status := c.status("POST", "/api/v1/auth/login", "", wrong); status == http.StatusTooManyRequests {
			got429 = true
			break
		}
	}
	if !got429 {
		t.Error("twelve failed logins for one account never answered 429")
	}

	// Last, as they end sessions: alice changes her password (which ends
	// hers), the admin signs out everywhere.
	pw := srv.Target.Alice.Password
	c.expect(403, "POST", "/api/v1/users/me/password", alice, map[string]any{"current_password": "not-the-password", "new_password": "another-long-password"})
	c.expect(400, "POST", "/api/v1/users/me/password", alice, map[string]any{"current_password": pw, "new_password": "short"})
	c.expect(204, "POST", "/api/v1/users/me/password", alice, map[string]any{"current_password": pw, "new_password": "another-long-password"})
	c.expect(401, "GET", "/api/v1/users/me", alice, nil)
	c.expect(204, "POST", "/api/v1/auth/logout-all", admin, nil)
	c.expect(401, "POST", "/api/v1/auth/logout-all", admin, nil)

	for path, item := range check.doc.Paths.Map() {
		for method, op := range item.Operations() {
			if !slices.ContainsFunc(check.statuses(op.OperationID), func(s int) bool { return s < 300 }) {
				t.Errorf("%s %s (%s) was never seen succeeding: add it to this test", method, path, op.OperationID)
			}
		}
	}
	reached := check.allStatuses()
	for _, want := range []int{400, 401, 403, 404, 409, 413, 415, 429} {
		if !reached[want] {
			t.Errorf("no documented operation answered %d during the run", want)
		}
	}
}

// The document is served by the API itself, and is the embedded file.
func TestOpenAPIDocumentIsServed(t *testing.T) {
	srv := startServer(t, nil)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/api/v1/openapi.yaml", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != api.MediaType {
		t.Fatalf("GET /api/v1/openapi.yaml: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !bytes.Equal(body, api.Document()) {
		t.Error("the served document differs from api/openapi.yaml")
	}
	if resp.Header.Get("RateLimit") == "" {
		t.Error("the document route is not rate limited")
	}
}

// apiClient sends the test's requests and fails the test on an unexpected
// status.
type apiClient struct {
	t    *testing.T
	base string
	http *http.Client
}

func (c *apiClient) expect(want int, method, path, token string, body any) []byte {
	c.t.Helper()
	var r io.Reader
	ctype := ""
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		r, ctype = bytes.NewReader(b), "application/json"
	}
	return c.send(want, method, path, token, ctype, r)
}

func (c *apiClient) status(method, path, token string, body any) int {
	c.t.Helper()
	b, _ := json.Marshal(body)
	resp := c.do(method, path, token, "application/json", bytes.NewReader(b))
	_ = resp.Body.Close()
	return resp.StatusCode
}

func (c *apiClient) send(want int, method, path, token, ctype string, body io.Reader) []byte {
	c.t.Helper()
	resp := c.do(method, path, token, ctype, body)
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		c.t.Fatalf("%s %s: got %d, want %d: %s", method, path, resp.StatusCode, want, clipBody(b))
	}
	return b
}

func (c *apiClient) do(method, path, token, ctype string, body io.Reader) *http.Response {
	c.t.Helper()
	req, err := http.NewRequestWithContext(context.WithoutCancel(c.t.Context()), method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

func (c *apiClient) upload(want int, orderID, token, name, content string) []byte {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	part, err := mw.CreateFormFile("file", name)
	if err != nil {
		c.t.Fatal(err)
	}
	_, _ = io.WriteString(part, content)
	_ = mw.Close()
	return c.send(want, "POST", "/api/v1/orders/"+orderID+"/files", token, mw.FormDataContentType(), &buf)
}

func (c *apiClient) decode(b []byte, v any) {
	c.t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		c.t.Fatalf("decode %s: %v", clipBody(b), err)
	}
}
