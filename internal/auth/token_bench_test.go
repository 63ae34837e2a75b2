package auth_test

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bulwark-dev/bulwark/internal/auth"
	"github.com/bulwark-dev/bulwark/internal/config"
)

// BenchmarkTokenVerify is what authentication adds to every request: an
// HS256 check and the claims' decoding and validation (docs/performance.md).
// "subject" is the middleware's call, which builds no claims for the
// caller. The forged case is refused at the signature, before any claim is read.
func BenchmarkTokenVerify(b *testing.B) {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	tokens, err := auth.NewTokens([]config.SigningKey{{ID: "k1", Secret: secret}}, "bulwark", "bulwark-api", 10*time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	valid, err := tokens.Issue(auth.Grant{UserID: uuid.New(), Role: auth.RoleCustomer, Session: uuid.New()})
	if err != nil {
		b.Fatal(err)
	}
	forged := valid[:len(valid)-4] + "AAAA"
	b.Run("valid", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := tokens.Verify(valid); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("subject", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tokens.Subject(valid); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("forged", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := tokens.Verify(forged); err == nil {
				b.Fatal("forged token accepted")
			}
		}
	})
}
