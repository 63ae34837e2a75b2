package localfs

// Fuzz targets for the local backend's paths and its signed download links.
// Each asserts the promise the code makes, not just "no panic". Run one
// with
//
//	go test -run '^$' -fuzz '^FuzzSignedURL$' -fuzztime 60s ./internal/files/localfs
//
// The seeds are the attack catalogue's own payloads
// (tools/attack/payloads.go).

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-dev/bulwark/internal/config"
	"github.com/bulwark-dev/bulwark/internal/files"
	"github.com/bulwark-dev/bulwark/tools/attack"
)

// hostileNames are the catalogue's traversal payloads, for every target
// here that takes a name, a key or a path.
func hostileNames() []string {
	return slices.Concat(
		attack.TraversalFilenames(),
		attack.TraversalSegments("a11ce000-0000-4000-8000-000000000001"),
		attack.TraversalKeys(testKey),
		attack.SQLInjectionValues(),
	)
}

// FuzzLocalPaths: the local backend stores and serves objects inside its
// root only. Outside the root sits a canary file; inside, a validly shaped
// key is a symlink pointing at it. Whatever key is asked for, Open never
// returns the canary, returns only objects stored under exactly that key,
// and Put and Delete touch nothing outside the root.
func FuzzLocalPaths(f *testing.F) {
	for _, n := range hostileNames() {
		f.Add(n, "../canary")
	}
	f.Add(testKey, "../../../../canary")
	f.Add("owners/a11ce000-0000-4000-8000-000000000001/files/ffffffffffffffffffffffffffffffff", "/etc/passwd")

	base := f.TempDir()
	canary := []byte("bulwark canary: outside the storage root\n")
	if err := os.WriteFile(filepath.Join(base, "canary"), canary, 0o600); err != nil {
		f.Fatal(err)
	}
	l, err := New(filepath.Join(base, "root"), nil, "/downloads")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = l.Close() })
	// A validly shaped key that is a symlink out of the root: os.Root must
	// refuse to follow it even though every string check passes.
	const linkKey = "owners/0b0b0000-0000-4000-8000-000000000002/files/00000000000000000000000000000001"
	linkPath := filepath.Join(base, "root", filepath.FromSlash(linkKey))
	if err := os.MkdirAll(filepath.Dir(linkPath), 0o750); err != nil {
		f.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(base, "canary"), linkPath); err != nil {
		f.Fatal(err)
	}
	f.Add(linkKey, "../../../../../canary")
	outside := func() []string {
		entries, _ := os.ReadDir(base)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	before := outside()

	f.Fuzz(func(t *testing.T, key, link string) {
		ctx := context.Background()
		for _, k := range []string{key, link, linkKey} {
			r, err := l.Open(ctx, k)
			if err != nil {
				continue
			}
			got, err := io.ReadAll(r)
			_ = r.Close()
			if err == nil && bytes.Equal(got, canary) {
				t.Fatalf("Open(%q) served the canary from outside the root", k)
			}
			if !files.ValidObjectKey(k) {
				t.Fatalf("Open(%q) opened a key of the wrong shape", k)
			}
			// Below the key check, os.Root is the second gate.
			if fh, err := l.root.Open(k); err == nil {
				got, _ := io.ReadAll(fh)
				_ = fh.Close()
				if bytes.Equal(got, canary) {
					t.Fatalf("root.Open(%q) followed a path out of the root", k)
				}
			}
		}
		content := []byte("object under " + key)
		n, err := l.Put(ctx, key, bytes.NewReader(content))
		switch {
		case err != nil && files.ValidObjectKey(key) && key != linkKey:
			t.Fatalf("Put(%q) of a valid key: %v", key, err)
		case err == nil && !files.ValidObjectKey(key):
			t.Fatalf("Put(%q) stored under a key of the wrong shape", key)
		case err == nil:
			r, err := l.Open(ctx, key)
			if err != nil {
				t.Fatalf("Open(%q) after Put: %v", key, err)
			}
			got, _ := io.ReadAll(r)
			_ = r.Close()
			if n != int64(len(content)) || !bytes.Equal(got, content) {
				t.Fatalf("Open(%q) after Put = %q, want %q", key, got, content)
			}
		}
		if err := l.Delete(ctx, link); err == nil && !files.ValidObjectKey(link) {
			t.Fatalf("Delete(%q) accepted a key of the wrong shape", link)
		}
		if got, err := os.ReadFile(filepath.Join(base, "canary")); err != nil || !bytes.Equal(got, canary) {
			t.Fatalf("the canary outside the root was changed or removed (%v)", err)
		}
		if after := outside(); !slices.Equal(after, before) {
			t.Fatalf("files outside the root changed: %q, was %q", after, before)
		}
		// Put or Delete may have replaced the symlink itself (never its
		// target, checked above); put it back for the next input.
		if fi, err := os.Lstat(linkPath); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			_ = os.Remove(linkPath)
			_ = os.MkdirAll(filepath.Dir(linkPath), 0o750)
			if err := os.Symlink(filepath.Join(base, "canary"), linkPath); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// FuzzSignedURL: a signed link grants exactly the method and key it was
// signed for, until its expiry, under a key in the ring; changing any
// parameter to any other value (another key, expiry, key id or signature,
// another spelling of the same signature included) makes it fail with the
// one error, and so does a signature made under a secret not in the ring.
func FuzzSignedURL(f *testing.F) {
	for _, n := range hostileNames() {
		f.Add(testKey, int64(60), uint8(0), n, uint8(len(n)), "GET")
	}
	for _, k := range attack.TraversalKeys(testKey) {
		f.Add(k, int64(300), uint8(3), k, uint8(0), "GET")
	}
	f.Add(testKey, int64(-1), uint8(1), "99999999999", uint8(3), "HEAD")
	f.Add(testKey, int64(120), uint8(2), "k2", uint8(43), "GET")

	now := time.Unix(1_800_000_000, 0)
	secret := func(s string) []byte { return []byte(strings.Repeat(s, 32)) }
	ring, err := NewSigner([]config.SigningKey{{ID: "k1", Secret: secret("a")}, {ID: "k2", Secret: secret("b")}})
	if err != nil {
		f.Fatal(err)
	}
	ring.now = func() time.Time { return now }
	stranger, err := NewSigner([]config.SigningKey{{ID: "k1", Secret: secret("c")}})
	if err != nil {
		f.Fatal(err)
	}
	stranger.now = ring.now
	params := []string{"key", "expires", "kid", "signature"}

	f.Fuzz(func(t *testing.T, key string, ttlSeconds int64, field uint8, value string, at uint8, method string) {
		ttl := time.Duration(ttlSeconds%3600) * time.Second
		q, expires := ring.Sign("GET", key, ttl)
		got, err := ring.Verify("GET", q)
		live := key != "" && now.Before(expires)
		switch {
		case live && (err != nil || got != key):
			t.Fatalf("fresh link for %q (ttl %s) = %q, %v", key, ttl, got, err)
		case !live && err == nil:
			t.Fatalf("link for %q with ttl %s verified", key, ttl)
		case err != nil && !errors.Is(err, ErrBadSignature):
			t.Fatalf("refusal %v is not the one error", err)
		}
		if !live {
			return
		}
		if method != "GET" {
			if _, err := ring.Verify(method, q); err == nil {
				t.Fatalf("a GET link for %q verified for %q", key, method)
			}
		}
		forged, _ := stranger.Sign("GET", key, ttl)
		if _, err := ring.Verify("GET", forged); err == nil {
			t.Fatalf("a link signed under a secret outside the ring verified: %v", forged)
		}
		// One parameter replaced by value, or value inserted into it.
		name := params[int(field)%len(params)]
		orig := q.Get(name)
		i := int(at) % (len(orig) + 1)
		for _, changed := range []string{value, orig[:i] + value + orig[i:]} {
			if changed == orig {
				continue
			}
			tampered := url.Values{}
			for k, v := range q {
				tampered[k] = slices.Clone(v)
			}
			tampered.Set(name, changed)
			if got, err := ring.Verify("GET", tampered); err == nil {
				t.Fatalf("link with %s changed from %q to %q verified (key %q)", name, orig, changed, got)
			} else if !errors.Is(err, ErrBadSignature) {
				t.Fatalf("refusal %v is not the one error", err)
			}
		}
		// The same link sent over the wire: the parameters survive the
		// query string exactly, and a link read back verifies as signed.
		wire, err := url.ParseQuery(q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		if got, err := ring.Verify("GET", wire); err != nil || got != key {
			t.Fatalf("link for %q after a trip through the query string = %q, %v", key, got, err)
		}
	})
}
