package files

// Fuzz targets for object keys, filenames and Content-Disposition; the
// local backend's paths and its signed download links have theirs in
// localfs/fuzz_test.go. Each asserts the promise the code makes, not just
// "no panic". Run one with
//
//	go test -run '^$' -fuzz '^FuzzFilename$' -fuzztime 60s ./internal/files
//
// or all of them briefly with `make fuzz`. The seeds are the attack
// catalogue's own payloads (tools/attack/payloads.go).

import (
	"mime"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/bulwark-dev/bulwark/tools/attack"
)

const testKey = "owners/a11ce000-0000-4000-8000-000000000001/files/0123456789abcdef0123456789abcdef"

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

// keyShape is the documented shape, written out independently of
// objectKeyPattern.
var keyShape = regexp.MustCompile(`^owners/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/files/([0-9a-f]{32})$`)

// safeKey reports what is wrong with k as a path inside the storage root.
func safeKey(k string) string {
	switch {
	case strings.Contains(k, ".."):
		return "contains .."
	case strings.HasPrefix(k, "/"):
		return "starts with /"
	case strings.ContainsAny(k, "\\\x00%"):
		return "contains a backslash, NUL or %"
	case path.Clean(k) != k:
		return "is not clean"
	case !filepath.IsLocal(k):
		return "is not local"
	}
	return ""
}

// FuzzObjectKey: a key the server builds is owners/{owner}/files/{random},
// for the owner it was built for and for no input of the client's; and any
// string the key check lets through (the gate on keys coming back from
// outside) is a clean, relative path of that same shape.
func FuzzObjectKey(f *testing.F) {
	for _, n := range hostileNames() {
		f.Add([]byte(n), n)
	}
	f.Add(uuid.Max[:], testKey)
	f.Fuzz(func(t *testing.T, owner []byte, candidate string) {
		var id uuid.UUID
		copy(id[:], owner)
		key := NewObjectKey(id)
		m := keyShape.FindStringSubmatch(key)
		if m == nil || m[1] != id.String() || !ValidObjectKey(key) {
			t.Fatalf("NewObjectKey(%s) = %q: not owners/{owner}/files/{random}", id, key)
		}
		if why := safeKey(key); why != "" {
			t.Fatalf("NewObjectKey(%s) = %q %s", id, key, why)
		}
		if again := NewObjectKey(id); again == key {
			t.Fatalf("NewObjectKey(%s) twice gave %q", id, key)
		}
		if !ValidObjectKey(candidate) {
			return
		}
		if !keyShape.MatchString(candidate) {
			t.Fatalf("ValidObjectKey(%q) but not of the documented shape", candidate)
		}
		if why := safeKey(candidate); why != "" {
			t.Fatalf("ValidObjectKey(%q) but it %s", candidate, why)
		}
	})
}

// FuzzFilename: whatever name the uploader sent, the stored name is
// harmless metadata (no separator, control or invisible character, no
// leading dot, valid UTF-8, bounded), normalising it again changes
// nothing, and the Content-Disposition built from it (or from any other
// string) stays inside its grammar and parses back, with Go's own RFC 2231
// reader, to an attachment of exactly that name.
func FuzzFilename(f *testing.F) {
	for _, n := range hostileNames() {
		f.Add(n)
	}
	f.Add(`a.pdf"; filename="evil.html`)
	f.Add("a.pdf\r\nSet-Cookie: x=1")
	f.Fuzz(func(t *testing.T, raw string) {
		name := NormalizeFilename(raw)
		if p := filenameProblems(name); p != nil {
			t.Fatalf("NormalizeFilename(%q) = %q: %s", raw, name, strings.Join(p, "; "))
		}
		if again := NormalizeFilename(name); again != name {
			t.Fatalf("NormalizeFilename is not idempotent: %q → %q → %q", raw, name, again)
		}
		for _, n := range []string{name, raw} {
			if n == "" {
				continue
			}
			cd := ContentDisposition(n)
			if p := dispositionProblems(cd, n); p != nil {
				t.Fatalf("ContentDisposition(%q) = %q: %s", n, cd, strings.Join(p, "; "))
			}
			disposition, params, err := mime.ParseMediaType(cd)
			if err != nil || disposition != "attachment" || params["filename"] != n || len(params) != 1 {
				t.Fatalf("ContentDisposition(%q) = %q parses to %q %q (%v)", n, cd, disposition, params, err)
			}
		}
	})
}
