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

// BenchmarkAuthenticate is the price of instant revocation on every
// authenticated request: "signature" checks the token alone, as
// Authenticate did before; "session" adds the one read of the user's row
// and the session's family (GetSessionState) against a real PostgreSQL
// on loopback. The ratio of the two is the cost docs/performance.md
// reports; on staff routes the same read replaces the role read that
// RequireRole made before, so there it costs nothing.
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
	signatureOnly := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			if _, _, err := tokens.Verify(tok); err != nil {
				return err
			}
			return next(c)
		}
	}
	ok := func(c *echo.Context) error { return c.NoContent(http.StatusNoContent) }
	for _, bc := range []struct {
		name string
		mw   echo.MiddlewareFunc
	}{
		{"signature", signatureOnly},
		{"session", auth.Authenticate(tokens, auth.NewStore(service))},
	} {
		e := echo.New()
		e.GET("/me", ok, bc.mw)
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
