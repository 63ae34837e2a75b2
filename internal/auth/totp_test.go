package auth

import (
	"bytes"
	"encoding/base32"
	"testing"
	"time"
)

const testSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

// A code matches its own step and the steps on either side, and no other;
// the step it returns is the one a replay check must move past.
func TestMatchTOTPAcceptsNeighbouringStepsOnly(t *testing.T) {
	now := time.Unix(1_800_000_015, 0)
	current := totpStep(now)
	for offset := int64(-3); offset <= 3; offset++ {
		code, err := totpCode(testSecret, current+offset)
		if err != nil {
			t.Fatal(err)
		}
		step, ok := matchTOTP(testSecret, code, now)
		want := offset >= -1 && offset <= 1
		if ok != want || ok && step != current+offset {
			t.Errorf("code of step %+d: matched %v at %d, want %v at %d", offset, ok, step, want, current+offset)
		}
	}
	if _, ok := matchTOTP(testSecret, "000000", now); ok {
		code, _ := totpCode(testSecret, current)
		if code != "000000" {
			t.Error("a wrong code matched")
		}
	}
}

// The RFC 6238 test vector for SHA-1 at T = 59 s, cut to six digits
// (94287082 → 287082), with the RFC's ASCII secret "12345678901234567890".
func TestTOTPCodeMatchesRFC6238(t *testing.T) {
	rfc := base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))
	code, err := totpCode(rfc, totpStep(time.Unix(59, 0)))
	if err != nil || code != "287082" {
		t.Fatalf("code at T=59: %q, %v; want 287082", code, err)
	}
}

func TestRecoveryCodesHashAsTyped(t *testing.T) {
	code := newRecoveryCode()
	want, ok := recoveryHash(code)
	if !ok {
		t.Fatalf("a fresh code %q does not parse", code)
	}
	for _, typed := range []string{code, " " + code + " ", string(bytes.ToLower([]byte(code)))} {
		if got, ok := recoveryHash(typed); !ok || !bytes.Equal(got, want) {
			t.Errorf("recoveryHash(%q) differs from the code's", typed)
		}
	}
	for _, bad := range []string{"", "123456", code + "A", "IIII-IIII-IIII-IIII"} {
		if _, ok := recoveryHash(bad); ok {
			t.Errorf("recoveryHash(%q) accepted it", bad)
		}
	}
	if isTOTPCode(code) || !isTOTPCode("012345") || isTOTPCode("12345a") {
		t.Error("isTOTPCode tells six digits from the rest wrongly")
	}
}
