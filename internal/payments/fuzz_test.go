package payments

import (
	"crypto/hmac"
	"strings"
	"testing"
	"time"
)

// FuzzVerify: whatever the header and body, an accepted delivery carries
// the MAC of its own timestamp and body under the secret (no parsing
// confusion lets another through), and nothing panics.
func FuzzVerify(f *testing.F) {
	secret := []byte(strings.Repeat("s", 32))
	now := time.Unix(1_800_000_000, 0)
	f.Add(Sign(secret, now, []byte(`{}`)), []byte(`{}`))
	f.Add("t=1,v1=00", []byte(`{"id":"evt_12345678"}`))
	f.Add("t=1800000000,v1=,v1=", []byte(``))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		v := NewVerifier([][]byte{secret})
		v.now = func() time.Time { return now }
		if v.Verify(header, body) == nil {
			ts, sigs, err := parseSignature(header)
			if err != nil {
				t.Fatalf("accepted an unparsable header %q", header)
			}
			want := mac(secret, ts, body)
			found := false
			for _, s := range sigs {
				found = found || hmac.Equal(s, want)
			}
			if !found {
				t.Fatalf("accepted %q for %q without its MAC", header, body)
			}
		}
		_, _ = ParseEvent(body)
	})
}
