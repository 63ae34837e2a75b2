package app

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/config"
	"github.com/bulwark-dev/bulwark/internal/web"
)

// devConfig is the default development configuration: New needs no
// database, storage or limiter to assemble the service from it.
func devConfig(t *testing.T) config.Config {
	t.Helper()
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatalf("default development configuration: %v", err)
	}
	return cfg
}

func newApp(t *testing.T, cfg config.Config) *echo.Echo {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	e, err := New(Deps{Config: cfg, Logger: logger}, SecureParts(cfg, logger, web.NewMemoryLimiter()))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

func ok(c *echo.Context) error { return c.NoContent(http.StatusNoContent) }

func pass(next echo.HandlerFunc) echo.HandlerFunc { return next }

// TestRegisterRefuses: the table's checks, each with the route it names.
func TestRegisterRefuses(t *testing.T) {
	wired := middlewares{authenticate: pass, perUser: pass, ownedOrder: pass, ownedFile: pass, requireAdmin: pass, staffOrder: pass}
	var undeclared Policy
	tests := []struct {
		name       string
		add        func(*table)
		mw         middlewares
		decorators map[string]echo.MiddlewareFunc
		want       []string // in the error
	}{
		{
			name: "a route that declares no policy",
			add: func(r *table) {
				r.GET("/api/v1/declared", Customer, ok)
				r.POST("/api/v1/forgotten", undeclared, ok)
			},
			mw:   wired,
			want: []string{"POST /api/v1/forgotten", "declares no policy"},
		},
		{
			name: "a policy whose middleware is not wired",
			add:  func(r *table) { r.GET("/api/v1/admin/things", Staff, ok) },
			mw:   middlewares{authenticate: pass, perUser: pass},
			want: []string{"GET /api/v1/admin/things", "Staff"},
		},
		{
			name: "an {id} the policy does not resolve",
			add:  func(r *table) { r.GET("/api/v1/orders/:id/invoice", Customer, ok) },
			mw:   wired,
			want: []string{"GET /api/v1/orders/:id/invoice", "Customer"},
		},
		{
			name: "a resolving policy without an {id}",
			add:  func(r *table) { r.GET("/api/v1/files", FileOwner, ok) },
			mw:   wired,
			want: []string{"GET /api/v1/files", "FileOwner"},
		},
		{
			name:       "a handler decorator keyed by no route",
			add:        func(r *table) { r.GET("/api/v1/orders", Customer, ok) },
			mw:         wired,
			decorators: map[string]echo.MiddlewareFunc{"GET /orders": pass},
			want:       []string{`"GET /orders"`, "no route"},
		},
		{
			name: "the same route twice",
			add: func(r *table) {
				r.GET("/healthz", Public, ok)
				r.GET("/healthz", Public, ok)
			},
			mw:   wired,
			want: []string{"GET /healthz"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r table
			tt.add(&r)
			err := register(echo.New(), r.rows, tt.mw, tt.decorators)
			if err == nil {
				t.Fatal("register accepted the table")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
}

// Every route echo serves is a row of the table, so nothing reaches the
// router without a policy.
func TestEchoServesTheTableAndNothingElse(t *testing.T) {
	cfg := devConfig(t)
	rows, err := Routes(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var table, served []string
	for _, r := range rows {
		if r.Policy == 0 {
			t.Errorf("%s has no policy, and New accepted it", r.Key())
		}
		table = append(table, r.Key())
	}
	for _, r := range newApp(t, cfg).Router().Routes() {
		served = append(served, r.Method+" "+r.Path)
	}
	slices.Sort(table)
	slices.Sort(served)
	if diff := cmp.Diff(table, served); diff != "" {
		t.Errorf("echo's routes differ from the table (-table +echo):\n%s", diff)
	}
}

// TestPoliciesAreEnforced sends every route a request without a token:
// the routes whose policy needs one answer 401 before their handler runs,
// the others do not ask for one. So the policy a row declares is the
// check it gets.
func TestPoliciesAreEnforced(t *testing.T) {
	cfg := devConfig(t)
	rows, err := Routes(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := newApp(t, cfg)
	for _, r := range rows {
		t.Run(r.Policy.String()+" "+r.Key(), func(t *testing.T) {
			method, path := r.Method, strings.ReplaceAll(r.Path, ":id", "00000000-0000-4000-8000-000000000000")
			if method == echo.RouteNotFound {
				method, path = http.MethodGet, strings.ReplaceAll(path, "*", "nowhere")
			}
			for _, token := range []string{"", "Bearer not-a-jwt"} {
				req := httptest.NewRequest(method, path, nil)
				if token != "" {
					req.Header.Set("Authorization", token)
				}
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)
				switch r.Policy {
				case Public, SignedLink, Page:
					if rec.Code == http.StatusUnauthorized {
						t.Errorf("Authorization %q: 401 from a %s route", token, r.Policy)
					}
				default:
					if rec.Code != http.StatusUnauthorized {
						t.Errorf("Authorization %q: %d, want 401", token, rec.Code)
					}
				}
			}
		})
	}
}
