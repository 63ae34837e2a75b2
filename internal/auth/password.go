package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/bulwark-dev/bulwark/internal/web"
)

// Argon2Params are the argon2id cost settings. The defaults are OWASP's
// Password Storage Cheat Sheet recommendation (m=19 MiB, t=2, p=1).
type Argon2Params struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
	SaltLen     int
	KeyLen      uint32
}

// OWASPParams is the configuration recommended by OWASP for argon2id.
func OWASPParams() Argon2Params {
	return Argon2Params{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}
}

// ErrHashMalformed means a stored hash could not be parsed.
var ErrHashMalformed = errors.New("password hash is malformed")

// Hasher hashes and verifies passwords with argon2id. Every hash costs
// MemoryKiB of memory and real CPU time, so at most `slots` run at once; the
// rest wait for a slot or for their request to end. Without this bound a
// login flood allocates 19 MiB per request until the process dies.
type Hasher struct {
	params Argon2Params
	slots  chan struct{}
	// dummy is verified when the account does not exist, so that an unknown
	// email costs the same time as a wrong password (docs/auth.md).
	dummy string
}

// NewHasher returns a hasher that runs at most concurrency hashes at once.
func NewHasher(params Argon2Params, concurrency int) (*Hasher, error) {
	if concurrency < 1 {
		return nil, errors.New("hash concurrency must be at least 1")
	}
	h := &Hasher{params: params, slots: make(chan struct{}, concurrency)}
	random := make([]byte, 32)
	_, _ = rand.Read(random) // crypto/rand.Read never fails on supported platforms.
	dummy, err := h.Hash(context.Background(), base64.RawStdEncoding.EncodeToString(random))
	if err != nil {
		return nil, err
	}
	h.dummy = dummy
	return h, nil
}

// maxHashWait bounds the queue for a hashing slot. Without it a flood of
// logins (each within its own per-address limit) makes every login wait
// behind all the others; with it the excess is told to come back (503).
const maxHashWait = 2 * time.Second

// ErrHashBusy is the answer when no hashing slot frees up in time.
const ErrHashBusy = web.Unavailable("Too many sign-ins at once; retry shortly.")

func (h *Hasher) acquire(ctx context.Context) error {
	timer := time.NewTimer(maxHashWait)
	defer timer.Stop()
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-timer.C:
		return ErrHashBusy
	case <-ctx.Done():
		return fmt.Errorf("wait for a password hashing slot: %w", ctx.Err())
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the PHC string of password:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	_, _ = rand.Read(salt)
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, h.params.Iterations, h.params.MemoryKiB, h.params.Parallelism, h.params.KeyLen)
	h.release()
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.params.MemoryKiB, h.params.Iterations, h.params.Parallelism,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// Verify reports whether password matches the PHC hash. The parameters come
// from the stored hash, so raising the cost later keeps old hashes valid.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (bool, error) {
	p, salt, want, err := decodePHC(encoded)
	if err != nil {
		return false, err
	}
	// A hash from the database sets the cost of verifying it; refuse costs
	// far above ours so a tampered row cannot turn a login into a DoS.
	if p.MemoryKiB > 4*h.params.MemoryKiB || p.Iterations > 4*h.params.Iterations || p.Parallelism > 4 {
		return false, ErrHashMalformed
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Parallelism, uint32(len(want))) //nolint:gosec // len(want) is at most 64, checked in decodePHC.
	h.release()
	// Constant-time comparison: the time taken says nothing about how many
	// leading bytes matched.
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// VerifyDummy spends the time of one verification and always fails. Login
// calls it for unknown emails.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	_, err := h.Verify(ctx, password, h.dummy)
	return err
}

func decodePHC(encoded string) (Argon2Params, []byte, []byte, error) {
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Argon2Params{}, nil, nil, ErrHashMalformed
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return Argon2Params{}, nil, nil, ErrHashMalformed
	}
	var p Argon2Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Iterations, &p.Parallelism); err != nil ||
		p.MemoryKiB == 0 || p.Iterations == 0 || p.Parallelism == 0 {
		return Argon2Params{}, nil, nil, ErrHashMalformed
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return Argon2Params{}, nil, nil, ErrHashMalformed
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return Argon2Params{}, nil, nil, ErrHashMalformed
	}
	return p, salt, key, nil
}
