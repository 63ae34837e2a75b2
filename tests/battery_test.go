package tests

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/app"
	"github.com/bulwark-dev/bulwark/internal/auth"
	"github.com/bulwark-dev/bulwark/internal/config"
	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/postgres/pgtest"
	"github.com/bulwark-dev/bulwark/internal/web"
	"github.com/bulwark-dev/bulwark/tools/attack"
	"github.com/bulwark-dev/bulwark/tools/fakepay"
)

// minBatteryCases is the least the battery must try against the default
// build: fewer means a family stopped producing cases without a word.
const minBatteryCases = 300

// TestBatteryBlocksEveryCase runs the OpenAPI battery (tools/attack,
// battery*.go) against the real server, with the route table as the
// served routes, and requires every case BLOCKED: none exploited, none
// skipped (the test knows the signing key), none that could not run.
// `go test -v -run Battery ./tests/` prints the cases per operation.
func TestBatteryBlocksEveryCase(t *testing.T) {
	srv, opts := startBatteryServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	res, err := attack.Battery(opts).Run(ctx, srv.Target)
	logTallies(t, res.Cases)
	t.Logf("%s in %s: %s", res.Verdict, time.Since(start).Round(time.Second), res.Evidence)
	if err != nil {
		t.Fatalf("the battery could not run: %v", err)
	}
	total := 0
	for _, row := range res.Cases {
		total += row.Tried
		if row.Blocked != row.Tried {
			t.Errorf("%s (%s %s, %s): %d of %d cases not blocked:\n  %s",
				row.Operation, row.Method, row.Path, row.Policy, row.Tried-row.Blocked, row.Tried, strings.Join(row.Findings, "\n  "))
		}
	}
	if res.Verdict != attack.Blocked {
		t.Errorf("verdict %s, want BLOCKED", res.Verdict)
	}
	if total < minBatteryCases {
		t.Errorf("the battery tried %d cases, want at least %d", total, minBatteryCases)
	}
}

// startBatteryServer is startServer with what the battery needs for a
// valid request to every operation: importFile may fetch the SSRF lab's
// loopback "public" file server (IMPORT_ALLOW_HOSTS and IMPORT_ALLOW_HTTP,
// as tests/ssrf_test.go allows it), payOrder reaches the fake payment
// provider (tools/fakepay, as tests/payments_test.go starts it), and the
// target holds that provider's webhook secret, so the battery signs
// paymentWebhook's events. The options carry the served routes and the
// URL to import.
func startBatteryServer(t *testing.T, env map[string]string) (*server, attack.BatteryOptions) {
	t.Helper()
	lab := startLab(t)
	secret := randomKey()
	provider, err := fakepay.Start("127.0.0.1:0", "", secret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(provider.Close)
	settings := ssrfEnv(t, lab, map[string]string{
		"PAYMENT_PROVIDER_URL":    provider.URL,
		"PAYMENT_WEBHOOK_SECRETS": "battery:" + base64.RawURLEncoding.EncodeToString(secret),
	})
	for k, v := range env {
		settings[k] = v
	}
	srv := startServer(t, settings)
	provider.SetWebhook(srv.URL + "/api/v1/webhooks/payments")
	srv.Target.SSRF = lab
	srv.Target.Webhook = &attack.WebhookKey{ID: "battery", Secret: secret}
	return srv, attack.BatteryOptions{Served: servedRoutes(t), ImportURL: lab.PublicURL("/file.txt")}
}

// TestBatterySkipsWhatItCannotSign runs the battery's third-party
// operations against a server it holds neither the webhook secret nor a
// fetchable URL for: the cases that need a correctly signed event or a
// URL the server would fetch are SKIPPED with the reason, never counted
// BLOCKED, and the forged signatures, which need no secret, still run.
func TestBatterySkipsWhatItCannotSign(t *testing.T) {
	srv := startServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := attack.Battery(attack.BatteryOptions{Operations: []string{"importFile", "paymentWebhook"}}).Run(ctx, srv.Target)
	logTallies(t, res.Cases)
	if err != nil {
		t.Fatalf("the battery could not run: %v", err)
	}
	rows := map[string]attack.Tally{}
	for _, row := range res.Cases {
		rows[row.Operation] = row
		if row.Exploited+row.Unproven > 0 {
			t.Errorf("%s: %d exploited, %d unproven: %s", row.Operation, row.Exploited, row.Unproven, strings.Join(row.Findings, "\n"))
		}
	}
	for op, reason := range map[string]string{"importFile": "-import-url", "paymentWebhook": "-webhook-secret"} {
		row := rows[op]
		if row.Skipped == 0 || !strings.Contains(strings.Join(row.Findings, "\n"), reason) {
			t.Errorf("%s: %d skipped, want some, each saying it needs %s: %v", op, row.Skipped, reason, row.Findings)
		}
	}
	// contract, and the three forgeries that need no secret.
	if got := rows["paymentWebhook"].Blocked; got != 4 {
		t.Errorf("paymentWebhook: %d blocked, want 4 (contract, no-signature, made-up-signature, other-secret)", got)
	}
}

// servedRoutes is the route table of internal/app/routes.go, as the
// battery's served routes.
func servedRoutes(t *testing.T) []attack.Endpoint {
	t.Helper()
	var out []attack.Endpoint
	for _, r := range tableRoutes(t) {
		out = append(out, attack.Endpoint{Method: r.Method, Path: openAPIPath(r.Path)})
	}
	return out
}

// logTallies prints the cases per operation, as the runner does.
func logTallies(t *testing.T, rows []attack.Tally) {
	t.Helper()
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "OPERATION\tMETHOD\tPATH\tPOLICY\tTRIED\tBLOCKED\tEXPLOITED\tSKIPPED\tUNPROVEN")
	var sum attack.Tally
	for _, r := range rows {
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n", r.Operation, r.Method, r.Path, r.Policy, r.Tried, r.Blocked, r.Exploited, r.Skipped, r.Unproven)
		sum.Tried += r.Tried
		sum.Blocked += r.Blocked
		sum.Exploited += r.Exploited
		sum.Skipped += r.Skipped
		sum.Unproven += r.Unproven
	}
	_, _ = fmt.Fprintf(tw, "total\t\t\t\t%d\t%d\t%d\t%d\t%d\n", sum.Tried, sum.Blocked, sum.Exploited, sum.Skipped, sum.Unproven)
	_ = tw.Flush()
	t.Logf("battery cases per operation:\n%s", b.String())
	for _, r := range rows {
		for _, f := range r.Findings {
			t.Logf("%s: %s", r.Operation, f)
		}
	}
}

// TestBatteryCatchesWhatTheDocumentHides proves that the battery can fail.
// The real service is assembled with app.New and three routes are added
// after it, as a careless change would add them outside routes.go:
//   - GET /api/v1/orders/{id}/summary loads the order by its id alone (an
//     authenticated route without the ownership resolver), and a document
//     that declares it OrderOwner, linked from createOrder, is given to the
//     battery: bob reading alice's summary must be reported;
//   - GET /api/v1/debug/orders, served and documented nowhere: reported
//     from the route list;
//   - PUT /api/v1/users/me, a method the document does not list on a
//     documented path: reported by probing the path's other methods.
func TestBatteryCatchesWhatTheDocumentHides(t *testing.T) {
	base, target, served := startServerWithExtraRoutes(t)
	doc := documentWithSummary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := attack.Battery(attack.BatteryOptions{
		Document:   doc,
		Served:     served,
		Operations: []string{"getOrderSummary", "getMe"},
	}).Run(ctx, target)
	logTallies(t, res.Cases)
	if err != nil {
		t.Fatalf("the battery could not run against %s: %v", base, err)
	}
	if res.Verdict != attack.Exploited {
		t.Errorf("verdict %s, want EXPLOITED: %s", res.Verdict, res.Evidence)
	}
	findings := map[string]string{}
	for _, row := range res.Cases {
		findings[row.Operation] = strings.Join(row.Findings, "\n")
	}
	for row, want := range map[string][]string{
		"getOrderSummary": {"EXPLOITED owner/other-customer:", "got 200, not 404"},
		"inventory": {
			"EXPLOITED inventory/served GET /api/v1/debug/orders:",
			"EXPLOITED inventory/served PUT /api/v1/users/me:",
			"EXPLOITED inventory/method PUT /api/v1/users/me:",
		},
	} {
		for _, w := range want {
			if !strings.Contains(findings[row], w) {
				t.Errorf("%s: no finding %q; the findings are:\n%s", row, w, findings[row])
			}
		}
	}
	// The operations the server guards as documented stay blocked.
	for _, row := range res.Cases {
		if row.Operation == "getMe" && row.Blocked != row.Tried {
			t.Errorf("getMe: %d of %d cases not blocked:\n%s", row.Tried-row.Blocked, row.Tried, findings["getMe"])
		}
	}
}

// startServerWithExtraRoutes serves the service as app.New builds it, on a
// fresh seeded database, with the three routes of the test above added
// after it. It returns the base URL, a target for it, and the served
// routes as echo lists them.
func startServerWithExtraRoutes(t *testing.T) (string, *attack.Target, []attack.Endpoint) {
	t.Helper()
	ctx := t.Context()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env := map[string]string{
		"APP_ENV":          "development",
		"DATABASE_URL":     pgtest.NewDatabase(t),
		"JWT_SIGNING_KEYS": "test:" + base64.RawURLEncoding.EncodeToString(key),
		"FILE_STORAGE_DIR": filepath.Join(t.TempDir(), "files"),
	}
	getenv := func(k string) string { return env[k] }
	if err := app.Run(ctx, []string{"seed"}, getenv, io.Discard, io.Discard); err != nil {
		t.Fatalf("seed: %v", err)
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := postgres.Open(ctx, env["DATABASE_URL"], postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	hasher, err := auth.NewHasher(auth.OWASPParams(), cfg.HashConcurrency)
	if err != nil {
		t.Fatal(err)
	}
	storage, closeStorage, err := app.OpenStorage(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeStorage)
	logger := slog.New(slog.DiscardHandler)
	e, err := app.New(app.Deps{Config: cfg, Logger: logger, Pool: pool, Hasher: hasher, Storage: storage},
		app.SecureParts(cfg, logger, web.NewMemoryLimiter()))
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.NewTokens(cfg.SigningKeys, cfg.TokenIssuer, cfg.TokenAudience, cfg.AccessTokenTTL)
	if err != nil {
		t.Fatal(err)
	}
	signedIn := auth.Authenticate(tokens)
	e.GET("/api/v1/orders/:id/summary", unownedSummary(pool), signedIn)
	e.GET("/api/v1/debug/orders", func(c *echo.Context) error {
		return c.JSON(http.StatusOK, map[string]any{"items": []any{}})
	}, signedIn)
	e.PUT("/api/v1/users/me", func(c *echo.Context) error {
		return c.JSON(http.StatusOK, map[string]any{"name": "replaced"})
	}, signedIn)

	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	target := attack.DemoTarget(srv.URL)
	target.SigningKeyID, target.SigningKey = "test", key
	var served []attack.Endpoint
	for _, r := range e.Router().Routes() {
		if r.Method != echo.RouteNotFound {
			served = append(served, attack.Endpoint{Method: r.Method, Path: openAPIPath(r.Path)})
		}
	}
	return srv.URL, target, served
}

// unownedSummary is the hole: it loads the order named in the path for
// anyone signed in, with no owner in the WHERE clause.
func unownedSummary(pool *pgxpool.Pool) echo.HandlerFunc {
	return func(c *echo.Context) error {
		id, err := uuid.Parse(c.Param("id"))
		if err != nil {
			return echo.ErrNotFound
		}
		var status string
		var total int64
		err = pool.QueryRow(c.Request().Context(), `SELECT status, total_cents FROM orders WHERE id = $1`, id).Scan(&status, &total)
		if errors.Is(err, pgx.ErrNoRows) {
			return echo.ErrNotFound
		}
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"id": id.String(), "status": status, "total_cents": total})
	}
}

// documentWithSummary is api/openapi.yaml with the summary route declared
// as the careless change would declare it: OrderOwner, linked from
// createOrder like the other operations on an order, its answer closed.
func documentWithSummary(t *testing.T) []byte {
	t.Helper()
	doc := loadOpenAPI(t)
	orderItem := doc.Paths.Value("/api/v1/orders/{id}")
	getOrder := *orderItem.Get
	summary := getOrder
	summary.OperationID = "getOrderSummary"
	summary.Summary = "A summary of one of the caller's orders"
	summary.Extensions = map[string]any{"x-bulwark-policy": "OrderOwner"}
	ok := *getOrder.Responses.Value("200").Value
	ok.Content = openapi3.NewContentWithJSONSchema(&openapi3.Schema{
		Type:                 &openapi3.Types{openapi3.TypeObject},
		Required:             []string{"id", "status", "total_cents"},
		AdditionalProperties: openapi3.AdditionalProperties{Has: new(false)},
		Properties: openapi3.Schemas{
			"id":          doc.Components.Schemas["UUID"],
			"status":      doc.Components.Schemas["OrderStatus"],
			"total_cents": doc.Components.Schemas["Cents"],
		},
	})
	summary.Responses = openapi3.NewResponses()
	for status, resp := range getOrder.Responses.Map() {
		summary.Responses.Set(status, resp)
	}
	summary.Responses.Set("200", &openapi3.ResponseRef{Value: &ok})
	doc.Paths.Set("/api/v1/orders/{id}/summary", &openapi3.PathItem{Parameters: orderItem.Parameters, Get: &summary})
	created := doc.Paths.Value("/api/v1/orders").Post.Responses.Value("201").Value
	created.Links["getOrderSummary"] = &openapi3.LinkRef{Value: &openapi3.Link{
		OperationID: "getOrderSummary",
		Parameters:  map[string]any{"id": "$response.body#/id"},
	}}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
