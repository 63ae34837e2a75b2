package localfs

import (
	"crypto/rand"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bulwark-dev/bulwark/internal/config"
	"github.com/bulwark-dev/bulwark/internal/files"
)

// BenchmarkSigner is the cost of issuing a download link and of checking
// one on the download route, valid or tampered.
func BenchmarkSigner(b *testing.B) {
	s := newBenchSigner(b)
	key := files.NewObjectKey(uuid.New())
	q, _ := s.Sign("GET", key, 2*time.Minute)
	tampered := url.Values{}
	for k, v := range q {
		tampered[k] = v
	}
	tampered.Set("key", files.NewObjectKey(uuid.New()))
	b.Run("sign", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.Sign("GET", key, 2*time.Minute)
		}
	})
	b.Run("verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Verify("GET", q); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify-tampered", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Verify("GET", tampered); err == nil {
				b.Fatal("tampered link accepted")
			}
		}
	})
}

func newBenchSigner(b *testing.B) *Signer {
	b.Helper()
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	s, err := NewSigner([]config.SigningKey{{ID: "k1", Secret: secret}})
	if err != nil {
		b.Fatal(err)
	}
	return s
}
