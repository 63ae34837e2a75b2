package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

// cheapParams keep the tests fast; TestHasherOWASP covers the real cost.
func cheapParams() Argon2Params {
	return Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}
}

func newTestHasher(t *testing.T, params Argon2Params, concurrency int) *Hasher {
	t.Helper()
	h, err := NewHasher(params, concurrency)
	if err != nil {
		t.Fatalf("NewHasher: %v", err)
	}
	return h
}

func mustHash(t *testing.T, h *Hasher, password string) string {
	t.Helper()
	encoded, err := h.Hash(context.Background(), password)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	return encoded
}

func TestHasherOWASP(t *testing.T) {
	h := newTestHasher(t, OWASPParams(), 1)
	encoded := mustHash(t, h, "correct horse battery staple")

	phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !phc.MatchString(encoded) {
		t.Errorf("hash %q is not PHC argon2id with OWASP parameters, 16-byte salt and 32-byte key", encoded)
	}
	ok, err := h.Verify(context.Background(), "correct horse battery staple", encoded)
	if err != nil || !ok {
		t.Errorf("Verify(right password) = %v, %v; want true, nil", ok, err)
	}
}

func TestHasherVerify(t *testing.T) {
	h := newTestHasher(t, cheapParams(), 2)
	encoded := mustHash(t, h, "s3cret-passw0rd")

	tests := []struct {
		password string
		want     bool
	}{
		{password: "s3cret-passw0rd", want: true},
		{password: "s3cret-passw0rD", want: false},
		{password: "s3cret-passw0rd ", want: false},
		{password: "", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.password, func(t *testing.T) {
			got, err := h.Verify(context.Background(), tt.password, encoded)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got != tt.want {
				t.Errorf("Verify(%q) = %v, want %v", tt.password, got, tt.want)
			}
		})
	}
}

func TestHasherSaltsEachHash(t *testing.T) {
	h := newTestHasher(t, cheapParams(), 1)
	a, b := mustHash(t, h, "same password"), mustHash(t, h, "same password")
	if a == b {
		t.Fatalf("two hashes of one password are identical (%q): the salt is not random", a)
	}
	saltOf := func(s string) string { return strings.Split(s, "$")[4] }
	if saltOf(a) == saltOf(b) {
		t.Errorf("two hashes share the salt %q", saltOf(a))
	}
}

func TestHasherVerifyMalformed(t *testing.T) {
	h := newTestHasher(t, cheapParams(), 1)
	good := mustHash(t, h, "pw")
	parts := strings.Split(good, "$") // "", argon2id, v=19, m=..., salt, key
	salt, key := parts[4], parts[5]
	join := func(p ...string) string { return strings.Join(p, "$") }

	tests := []struct {
		name    string
		encoded string
	}{
		{name: "empty", encoded: ""},
		{name: "argon2i prefix", encoded: join("", "argon2i", "v=19", "m=64,t=1,p=1", salt, key)},
		{name: "bcrypt", encoded: "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{name: "no leading dollar", encoded: strings.TrimPrefix(good, "$")},
		{name: "missing key", encoded: join("", "argon2id", "v=19", "m=64,t=1,p=1", salt)},
		{name: "extra part", encoded: good + "$extra"},
		{name: "old version", encoded: join("", "argon2id", "v=16", "m=64,t=1,p=1", salt, key)},
		{name: "params garbage", encoded: join("", "argon2id", "v=19", "m=x,t=1,p=1", salt, key)},
		{name: "zero memory", encoded: join("", "argon2id", "v=19", "m=0,t=1,p=1", salt, key)},
		{name: "zero iterations", encoded: join("", "argon2id", "v=19", "m=64,t=0,p=1", salt, key)},
		{name: "zero parallelism", encoded: join("", "argon2id", "v=19", "m=64,t=1,p=0", salt, key)},
		{name: "salt bad base64", encoded: join("", "argon2id", "v=19", "m=64,t=1,p=1", "!!!!!!!!!!!!", key)},
		{name: "key bad base64", encoded: join("", "argon2id", "v=19", "m=64,t=1,p=1", salt, "*"+key[1:])},
		{name: "salt too short", encoded: join("", "argon2id", "v=19", "m=64,t=1,p=1", base64.RawStdEncoding.EncodeToString([]byte("1234")), key)},
		{name: "key too short", encoded: join("", "argon2id", "v=19", "m=64,t=1,p=1", salt, base64.RawStdEncoding.EncodeToString(make([]byte, 8)))},
		{name: "key too long", encoded: join("", "argon2id", "v=19", "m=64,t=1,p=1", salt, base64.RawStdEncoding.EncodeToString(make([]byte, 65)))},
		// A tampered row must not make a login allocate 4 TiB or loop for hours.
		{name: "absurd memory", encoded: join("", "argon2id", "v=19", "m=4294967295,t=1,p=1", salt, key)},
		{name: "absurd iterations", encoded: join("", "argon2id", "v=19", "m=64,t=4294967295,p=1", salt, key)},
		{name: "absurd parallelism", encoded: join("", "argon2id", "v=19", "m=64,t=1,p=255", salt, key)},
		{name: "memory just above 4x", encoded: join("", "argon2id", "v=19", "m=257,t=1,p=1", salt, key)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A deadline turns "computed anyway" into a visible failure
			// instead of a hung test run.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			start := time.Now()
			ok, err := h.Verify(ctx, "pw", tt.encoded)
			if !errors.Is(err, ErrHashMalformed) {
				t.Errorf("Verify(%q) error = %v, want ErrHashMalformed", tt.encoded, err)
			}
			if ok {
				t.Errorf("Verify(%q) = true for a malformed hash", tt.encoded)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("Verify took %v: the malformed hash was computed", d)
			}
		})
	}

	t.Run("costlier hash within bound still verifies", func(t *testing.T) {
		// Raising the cost later must keep old (or newer) hashes valid.
		stronger := newTestHasher(t, Argon2Params{MemoryKiB: 128, Iterations: 2, Parallelism: 2, SaltLen: 16, KeyLen: 32}, 1)
		encoded := mustHash(t, stronger, "pw")
		ok, err := h.Verify(context.Background(), "pw", encoded)
		if err != nil || !ok {
			t.Errorf("Verify(hash with m=128,t=2,p=2) = %v, %v; want true, nil", ok, err)
		}
	})
}

func TestHasherVerifyDummy(t *testing.T) {
	h := newTestHasher(t, cheapParams(), 1)
	if err := h.VerifyDummy(context.Background(), "any password"); err != nil {
		t.Errorf("VerifyDummy: %v", err)
	}
	if h.dummy == "" {
		t.Fatal("NewHasher did not prepare a dummy hash")
	}
	if _, _, _, err := decodePHC(h.dummy); err != nil {
		t.Errorf("dummy hash %q does not parse: %v", h.dummy, err)
	}
}

func TestNewHasherRefusesZeroConcurrency(t *testing.T) {
	for _, n := range []int{0, -1} {
		if _, err := NewHasher(cheapParams(), n); err == nil {
			t.Errorf("NewHasher(concurrency %d) succeeded, want an error", n)
		}
	}
}

// TestHasherConcurrencyBound holds the only slot and shows that Hash, Verify
// and VerifyDummy wait for it and give up when the request's context ends,
// rather than computing beside it.
func TestHasherConcurrencyBound(t *testing.T) {
	h := newTestHasher(t, cheapParams(), 1)
	encoded := mustHash(t, h, "pw")

	if err := h.acquire(context.Background()); err != nil {
		t.Fatalf("acquire: %v", err)
	}
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{name: "Hash", call: func(ctx context.Context) error { _, err := h.Hash(ctx, "pw"); return err }},
		{name: "Verify", call: func(ctx context.Context) error { _, err := h.Verify(ctx, "pw", encoded); return err }},
		{name: "VerifyDummy", call: func(ctx context.Context) error { return h.VerifyDummy(ctx, "pw") }},
	}
	for _, c := range calls {
		t.Run(c.name+" waits then times out", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			err := c.call(ctx)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s with the slot held: error = %v, want one wrapping context.DeadlineExceeded", c.name, err)
			}
		})
	}

	// Once the slot is free, work proceeds; a waiter is let in by release.
	done := make(chan error, 1)
	go func() {
		_, err := h.Hash(context.Background(), "pw")
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Hash finished (err=%v) while the only slot was held", err)
	case <-time.After(50 * time.Millisecond):
	}
	h.release()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Hash after release: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Hash did not proceed after the slot was released")
	}
	if n := len(h.slots); n != 0 {
		t.Errorf("%d slot(s) still held after all work finished", n)
	}
}

// A login never queues for a hashing slot longer than maxHashWait: under a
// flood the excess gets ErrHashBusy (503) instead of an ever longer wait.
func TestHashQueueIsBounded(t *testing.T) {
	h, err := NewHasher(Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer h.release()
	start := time.Now()
	_, err = h.Hash(context.Background(), "a-password-of-some-length")
	if !errors.Is(err, ErrHashBusy) {
		t.Fatalf("Hash with every slot taken: %v, want ErrHashBusy", err)
	}
	if waited := time.Since(start); waited < maxHashWait || waited > maxHashWait+time.Second {
		t.Errorf("gave up after %s, want about %s", waited, maxHashWait)
	}
}
