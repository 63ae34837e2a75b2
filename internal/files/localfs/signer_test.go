package localfs

import (
	"crypto/rand"
	"net/url"
	"testing"
	"time"

	"github.com/bulwark-dev/bulwark/internal/config"
)

func testSigner(t *testing.T, ids ...string) *Signer {
	t.Helper()
	var keys []config.SigningKey
	for _, id := range ids {
		secret := make([]byte, 32)
		_, _ = rand.Read(secret)
		keys = append(keys, config.SigningKey{ID: id, Secret: secret})
	}
	s, err := NewSigner(keys)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const testKey = "owners/a11ce000-0000-4000-8000-000000000001/files/0123456789abcdef0123456789abcdef"

// A link works until its expiry and not a second after, with a clock the
// test controls.
func TestSignerExpiry(t *testing.T) {
	s := testSigner(t, "k1")
	now := time.Unix(1_800_000_000, 0)
	s.now = func() time.Time { return now }
	q, expires := s.Sign("GET", testKey, 2*time.Minute)
	if got := expires.Sub(now); got != 2*time.Minute {
		t.Fatalf("expires in %s, want 2m", got)
	}
	now = expires.Add(-time.Second)
	if key, err := s.Verify("GET", q); err != nil || key != testKey {
		t.Fatalf("a second before expiry: %q, %v", key, err)
	}
	now = expires
	if _, err := s.Verify("GET", q); err == nil {
		t.Fatal("verified at its expiry")
	}
}

// Every change to a signed link makes it fail, with the same error.
func TestSignerRefusesTampering(t *testing.T) {
	s := testSigner(t, "k1")
	good, _ := s.Sign("GET", testKey, time.Minute)
	tamper := func(f func(q url.Values)) url.Values {
		q := url.Values{}
		for k, v := range good {
			q[k] = append([]string(nil), v...)
		}
		f(q)
		return q
	}
	sig := good.Get("signature")
	cases := map[string]url.Values{
		"other method":      nil,
		"other key":         tamper(func(q url.Values) { q.Set("key", testKey[:len(testKey)-1]+"0") }),
		"later expiry":      tamper(func(q url.Values) { q.Set("expires", q.Get("expires")+"0") }),
		"unknown kid":       tamper(func(q url.Values) { q.Set("kid", "k2") }),
		"flipped signature": tamper(func(q url.Values) { q.Set("signature", otherFirst(sig)) }),
		"non-canonical sig": tamper(func(q url.Values) { q.Set("signature", sig[:len(sig)-1]+nextBits(sig[len(sig)-1])) }),
		"no signature":      tamper(func(q url.Values) { q.Del("signature") }),
		// Regression (FuzzSignedURL, testdata/fuzz/FuzzSignedURL/cf0057e9f16e4b10):
		// the base64 decoder skips CR and LF even in strict mode, so these
		// were second spellings of a link.
		"CR after signature": tamper(func(q url.Values) { q.Set("signature", sig+"\r") }),
		"LF in signature":    tamper(func(q url.Values) { q.Set("signature", sig[:4]+"\n"+sig[4:]) }),
	}
	for name, q := range cases {
		t.Run(name, func(t *testing.T) {
			method := "GET"
			if q == nil {
				q, method = good, "DELETE"
			}
			if _, err := s.Verify(method, q); err != ErrBadSignature { //nolint:errorlint // the sentinel itself, unwrapped.
				t.Errorf("got %v, want ErrBadSignature", err)
			}
		})
	}
}

// nextBits returns a base64url character that differs from c only in the
// two low bits a 32-byte value leaves unused in its last character.
func nextBits(c byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range len(alphabet) {
		if alphabet[i] == c {
			return string(alphabet[i^1])
		}
	}
	return "A"
}

// Rotation: links signed with the old key verify while it is in the ring,
// and new links carry the new key id.
func TestSignerRotation(t *testing.T) {
	oldKey := config.SigningKey{ID: "old", Secret: make32()}
	old, err := NewSigner([]config.SigningKey{oldKey})
	if err != nil {
		t.Fatal(err)
	}
	q, _ := old.Sign("GET", testKey, time.Minute)
	rotated, err := NewSigner([]config.SigningKey{{ID: "new", Secret: make32()}, oldKey})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rotated.Verify("GET", q); err != nil {
		t.Errorf("old link after rotation: %v", err)
	}
	if q2, _ := rotated.Sign("GET", testKey, time.Minute); q2.Get("kid") != "new" {
		t.Errorf("new link signed with kid %q, want new", q2.Get("kid"))
	}
	retired, err := NewSigner([]config.SigningKey{{ID: "new", Secret: make32()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := retired.Verify("GET", q); err == nil {
		t.Error("a link of a retired key still verifies")
	}
}

func make32() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

// otherFirst changes the first character of s to a different one.
func otherFirst(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}
