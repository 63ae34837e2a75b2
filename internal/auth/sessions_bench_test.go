package auth_test

import (
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/auth"
	"github.com/bulwark-dev/bulwark/internal/config"
	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// BenchmarkAuthenticate is the price of instant revocation as a round trip
// of its own: "signature" is Authenticate, which checks the token alone
// and leaves the session check to the request's first statement (it rides
// in the identity statement, at no extra round trip); "session" adds that
// check run alone (postgres.RequireLiveSession), as a request pays it
// when it must act outside the database before any statement, against a
// real PostgreSQL on loopback. Before the check moved into the identity
// statement, every authenticated request paid "session".
func BenchmarkAuthenticate(b *testing.B) {
	db := pgtest.New(b)
	ctx := b.Context()
	super, err := postgres.Open(ctx, db.Admin, postgres.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer super.Close()
	service, err := postgres.Open(ctx, db.Service, postgres.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer service.Close()
	user, family := uuid.New(), uuid.New()
	if _, err := super.Exec(ctx, `INSERT INTO users (id, email, name, password_hash) VALUES ($1, 'bench@example.com', 'Bench', 'x')`, user); err != nil {
		b.Fatal(err)
	}
	if _, err := super.Exec(ctx, `INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at) VALUES (sha256('x'), $1, $2, now() + interval '1 day')`, user, family); err != nil {
		b.Fatal(err)
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	tokens, err := auth.NewTokens([]config.SigningKey{{ID: "k1", Secret: secret}}, "bulwark", "bulwark-api", 10*time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	tok, err := tokens.Issue(auth.Grant{UserID: user, Role: auth.RoleCustomer, Session: family})
	if err != nil {
		b.Fatal(err)
	}
	ok := func(c *echo.Context) error { return c.NoContent(http.StatusNoContent) }
	checked := func(c *echo.Context) error {
		if err := postgres.RequireLiveSession(c.Request().Context(), service); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
	for _, bc := range []struct {
		name    string
		handler echo.HandlerFunc
	}{
		{"signature", ok},
		{"session", checked},
	} {
		e := echo.New()
		e.GET("/me", bc.handler, auth.Authenticate(tokens))
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/me", nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)
				if rec.Code != http.StatusNoContent {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}
