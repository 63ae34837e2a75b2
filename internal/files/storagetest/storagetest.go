// Package storagetest is the contract every files.Storage keeps, whatever
// its backend: the local disk (localfs) and S3 (s3store) run the same cases
// from their own tests, each with a harness that looks behind the backend's
// back (docs/06-file-access.md).
package storagetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"maps"
	mathrand "math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bulwark-dev/bulwark/internal/files"
)

// Backend is one Storage under test, with what the contract needs to look
// behind its back.
type Backend struct {
	Storage files.Storage
	// Objects lists every stored object, whatever the key.
	Objects func(t *testing.T) []string
	// Leftovers lists what an unfinished Put could leave behind: files in
	// the temp dir (local disk), incomplete multipart uploads (S3).
	Leftovers func(t *testing.T) []string
	// CheckDownloadURL checks that rawURL grants a download of key, whose
	// content is want, as an attachment named filename of contentType.
	CheckDownloadURL func(t *testing.T, key, rawURL string, want []byte, filename, contentType string, ttl time.Duration)
	// CheckRefused checks that rawURL, a download URL that expired or was
	// tampered with, grants nothing: refused by the backend's own checker
	// (local disk) or by the store itself (S3).
	CheckRefused func(t *testing.T, rawURL string)
}

// Run runs the contract on the backends open returns: a new, empty one for
// each case. The cases run in parallel.
func Run(t *testing.T, open func(t *testing.T) Backend) {
	t.Helper()
	for _, c := range contract() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, open(t))
		})
	}
}

type contractCase struct {
	name string
	run  func(t *testing.T, b Backend)
}

func contract() []contractCase {
	return []contractCase{
		{"put then open returns the bytes", testRoundTrip},
		{"malformed keys are refused and nothing is written", testMalformedKeys},
		{"open of a missing key is ErrObjectNotFound", testOpenMissing},
		{"delete of a missing key is not an error", testDeleteMissing},
		{"delete then open is ErrObjectNotFound", testDeleteThenOpen},
		{"a reader failing halfway leaves nothing", testFailingReader},
		{"a cancelled context stops the put and leaves nothing", testCancelledPut},
		{"download URL grants the object as an attachment", testDownloadURL},
		{"a tampered download URL is refused", testDownloadURLTampered},
		{"a download URL is refused once expired", testDownloadURLExpires},
	}
}

func testRoundTrip(t *testing.T, b Backend) {
	// 16 MiB is exactly one S3 part; 20 MiB takes a second one.
	sizes := []int64{0, 1, 64<<10 + 3, 16 << 20, 20 << 20}
	for _, size := range sizes {
		t.Run(strconv.FormatInt(size, 10)+" bytes", func(t *testing.T) {
			ctx := t.Context()
			key := NewKey()
			// Streamed from a generator and hashed on the way: the backend
			// sees a stream of unknown length, as from a request body.
			src := sha256.New()
			n, err := b.Storage.Put(ctx, key, io.TeeReader(generator(size), src))
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			if n != size {
				t.Errorf("Put returned %d bytes written, want %d", n, size)
			}
			rc, err := b.Storage.Open(ctx, key)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer rc.Close()
			got := sha256.New()
			read, err := io.Copy(got, rc)
			if err != nil {
				t.Fatalf("read back: %v", err)
			}
			if read != size || !bytes.Equal(got.Sum(nil), src.Sum(nil)) {
				t.Errorf("read back %d bytes that differ from the %d written", read, size)
			}
		})
	}
}

func testMalformedKeys(t *testing.T, b Backend) {
	valid := NewKey()
	keys := []string{
		"",
		"../x",
		"owners/x/files/../../etc",
		"/etc/passwd",
		valid + "\x00",
		"owners/" + uuid.NewString() + "/files/../../../etc/passwd",
		"/" + valid,
		valid + "/",
		valid + "\n",
		strings.ToUpper(valid),
		"tmp/" + strings.Repeat("a", 32),
	}
	for _, key := range keys {
		r := &countingReader{r: strings.NewReader("payload")}
		if _, err := b.Storage.Put(t.Context(), key, r); err == nil {
			t.Errorf("Put(%q) succeeded, want it refused", key)
		}
		if r.n != 0 {
			t.Errorf("Put(%q) read %d bytes of the body before refusing", key, r.n)
		}
	}
	if got := b.Objects(t); len(got) != 0 {
		t.Errorf("objects stored after refused puts: %q", got)
	}
	if got := b.Leftovers(t); len(got) != 0 {
		t.Errorf("leftovers after refused puts: %q", got)
	}
}

func testOpenMissing(t *testing.T, b Backend) {
	rc, err := b.Storage.Open(t.Context(), NewKey())
	if !errors.Is(err, files.ErrObjectNotFound) {
		if rc != nil {
			_ = rc.Close()
		}
		t.Fatalf("Open of a missing key: %v, want ErrObjectNotFound", err)
	}
}

func testDeleteMissing(t *testing.T, b Backend) {
	if err := b.Storage.Delete(t.Context(), NewKey()); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
}

func testDeleteThenOpen(t *testing.T, b Backend) {
	ctx := t.Context()
	key := put(t, b.Storage, NewKey(), []byte("short-lived"))
	if err := b.Storage.Delete(ctx, key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := b.Storage.Open(ctx, key); !errors.Is(err, files.ErrObjectNotFound) {
		t.Fatalf("Open after Delete: %v, want ErrObjectNotFound", err)
	}
	if got := b.Objects(t); len(got) != 0 {
		t.Errorf("objects left after Delete: %q", got)
	}
}

func testFailingReader(t *testing.T, b Backend) {
	errBroken := errors.New("connection reset by peer")
	tests := []struct {
		name  string
		after int64
		err   error
	}{
		{"error after 1 MiB", 1 << 20, errBroken},
		// The first 16 MiB part is already uploaded when the reader fails,
		// so the S3 backend must abort a multipart upload that has data.
		{"error after 17 MiB", 17 << 20, errBroken},
		// What a request body returns when the client hangs up mid-upload.
		// It is not io.EOF: treating it as one would store a truncated file.
		{"unexpected EOF after 1 MiB", 1 << 20, io.ErrUnexpectedEOF},
		{"unexpected EOF after 17 MiB", 17 << 20, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := NewKey()
			r := io.MultiReader(generator(tt.after), errReader{tt.err})
			n, err := b.Storage.Put(t.Context(), key, r)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Put returned (%d, %v), want the reader's error %v", n, err, tt.err)
			}
			assertGone(t, b, key)
		})
	}
}

func testCancelledPut(t *testing.T, b Backend) {
	t.Run("cancelled before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		key := NewKey()
		if _, err := b.Storage.Put(ctx, key, generator(1<<20)); !errors.Is(err, context.Canceled) {
			t.Fatalf("Put with a cancelled context: %v, want context.Canceled", err)
		}
		assertGone(t, b, key)
	})
	// The client goes away after 1 MiB (within the first S3 part) or after
	// 17 MiB (a part already uploaded); the body would go on for 64 MiB more,
	// bounded so that a Put ignoring the cancellation fails the test instead
	// of hanging it.
	for _, after := range []int64{1 << 20, 17 << 20} {
		t.Run("cancelled after "+strconv.FormatInt(after>>20, 10)+" MiB", func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			key := NewKey()
			r := io.MultiReader(generator(after), cancelReader{cancel}, generator(64<<20))
			if _, err := b.Storage.Put(ctx, key, r); !errors.Is(err, context.Canceled) {
				t.Fatalf("Put cancelled midway: %v, want context.Canceled", err)
			}
			assertGone(t, b, key)
		})
	}
}

func testDownloadURL(t *testing.T, b Backend) {
	content := []byte("%PDF-1.7 pretend")
	key := put(t, b.Storage, NewKey(), content)
	const (
		filename    = `Rapport "final"; été.pdf`
		contentType = "application/pdf"
		ttl         = 5 * time.Minute
	)
	u, err := b.Storage.DownloadURL(t.Context(), key, filename, contentType, ttl)
	if err != nil {
		t.Fatalf("DownloadURL: %v", err)
	}
	b.CheckDownloadURL(t, key, u, content, filename, contentType, ttl)
}

// The signature covers every other parameter of the link, so changing any
// one of them, the signature included, or leaving it out must lose the
// download.
func testDownloadURLTampered(t *testing.T, b Backend) {
	content := []byte("tamper with me")
	key := put(t, b.Storage, NewKey(), content)
	const ttl = 5 * time.Minute
	raw, err := b.Storage.DownloadURL(t.Context(), key, "t.txt", "text/plain", ttl)
	if err != nil {
		t.Fatalf("DownloadURL: %v", err)
	}
	// Control: the untouched link downloads, so the refusals below are
	// the tampering's doing.
	b.CheckDownloadURL(t, key, raw, content, "t.txt", "text/plain", ttl)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	q := u.Query()
	if len(q) < 3 {
		t.Fatalf("link %q has %d parameters: not a signed link", raw, len(q))
	}
	for _, name := range slices.Sorted(maps.Keys(q)) {
		for _, tt := range []struct {
			what  string
			value []string
		}{
			{"changed", []string{tweak(q.Get(name))}},
			{"left out", nil},
		} {
			t.Run(name+" "+tt.what, func(t *testing.T) {
				v := maps.Clone(q)
				if tt.value == nil {
					delete(v, name)
				} else {
					v[name] = tt.value
				}
				tampered := *u
				tampered.RawQuery = v.Encode()
				b.CheckRefused(t, tampered.String())
			})
		}
	}
}

// tweak changes the last character of s (appends one to an empty s), so
// the value stays the same length and alphabet where it can.
func tweak(s string) string {
	if s == "" {
		return "0"
	}
	last := s[len(s)-1]
	switch {
	case last == '0', last == 'a', last == 'A':
		last++
	case last > '0' && last <= '9', last > 'a' && last <= 'z', last > 'A' && last <= 'Z':
		last--
	default:
		return s + "0"
	}
	return s[:len(s)-1] + string(last)
}

// The link works within its lifetime and not after it. Two seconds, since
// both backends count expiry in whole seconds from a truncated time.
func testDownloadURLExpires(t *testing.T, b Backend) {
	content := []byte("short-lived link")
	key := put(t, b.Storage, NewKey(), content)
	const ttl = 2 * time.Second
	signed := time.Now()
	raw, err := b.Storage.DownloadURL(t.Context(), key, "e.txt", "text/plain", ttl)
	if err != nil {
		t.Fatalf("DownloadURL: %v", err)
	}
	b.CheckDownloadURL(t, key, raw, content, "e.txt", "text/plain", ttl)
	select {
	case <-time.After(time.Until(signed.Add(ttl + 1500*time.Millisecond))):
	case <-t.Context().Done():
		t.Fatal(t.Context().Err())
	}
	b.CheckRefused(t, raw)
}

// NewKey is a fresh, valid key of a random owner.
func NewKey() string { return files.NewObjectKey(uuid.New()) }

// put stores content under key, failing t if it cannot.
func put(t *testing.T, s files.Storage, key string, content []byte) string {
	t.Helper()
	if _, err := s.Put(t.Context(), key, bytes.NewReader(content)); err != nil {
		t.Fatalf("Put: %v", err)
	}
	return key
}

// assertGone checks that a failed Put left neither the object nor any
// trace of the upload.
func assertGone(t *testing.T, b Backend, key string) {
	t.Helper()
	if rc, err := b.Storage.Open(t.Context(), key); !errors.Is(err, files.ErrObjectNotFound) {
		if rc != nil {
			_ = rc.Close()
		}
		t.Errorf("Open after the failed Put: %v, want ErrObjectNotFound", err)
	}
	if got := b.Objects(t); len(got) != 0 {
		t.Errorf("objects after the failed Put: %q", got)
	}
	if got := b.Leftovers(t); len(got) != 0 {
		t.Errorf("leftovers after the failed Put: %q", got)
	}
}

// generator streams size pseudo-random bytes without holding them.
func generator(size int64) io.Reader {
	return io.LimitReader(mathrand.NewChaCha8([32]byte{1}), size)
}

// errReader fails every read, like a broken connection.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// cancelReader cancels the upload's context when the copy reaches it.
type cancelReader struct{ cancel context.CancelFunc }

func (r cancelReader) Read([]byte) (int, error) {
	r.cancel()
	return 0, io.EOF
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
