package localfs_test

import (
	"crypto/rand"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bulwark-dev/bulwark/internal/config"
	"github.com/bulwark-dev/bulwark/internal/files"
	"github.com/bulwark-dev/bulwark/internal/files/localfs"
	"github.com/bulwark-dev/bulwark/internal/files/storagetest"
)

const downloadPath = "/api/v1/downloads"

func TestStorageContract(t *testing.T) {
	storagetest.Run(t, newBackend)
}

func newBackend(t *testing.T) storagetest.Backend {
	t.Helper()
	dir := t.TempDir()
	signer := newSigner(t)
	store, err := localfs.New(dir, signer, downloadPath)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return storagetest.Backend{
		Storage: store,
		Objects: func(t *testing.T) []string {
			t.Helper()
			var found []string
			err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if !d.IsDir() {
					rel, _ := filepath.Rel(dir, p)
					found = append(found, filepath.ToSlash(rel))
				}
				return nil
			})
			if err != nil {
				t.Fatalf("walk storage dir: %v", err)
			}
			// Temp files are leftovers, reported by leftovers.
			return slices.DeleteFunc(found, func(p string) bool { return strings.HasPrefix(p, "tmp/") })
		},
		Leftovers: func(t *testing.T) []string {
			t.Helper()
			entries, err := os.ReadDir(filepath.Join(dir, "tmp"))
			if err != nil {
				t.Fatalf("read temp dir: %v", err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, "tmp/"+e.Name())
			}
			return names
		},
		CheckDownloadURL: func(t *testing.T, key, rawURL string, _ []byte, _, _ string, ttl time.Duration) {
			t.Helper()
			u, err := url.Parse(rawURL)
			if err != nil {
				t.Fatalf("parse %q: %v", rawURL, err)
			}
			if u.Path != downloadPath || u.Host != "" {
				t.Errorf("URL %q: want a path to %s on the API's own origin", rawURL, downloadPath)
			}
			got, err := store.VerifyDownload("GET", u.Query())
			if err != nil || got != key {
				t.Fatalf("VerifyDownload = (%q, %v), want (%q, nil)", got, err, key)
			}
			exp, _ := strconv.ParseInt(u.Query().Get("expires"), 10, 64)
			if d := time.Until(time.Unix(exp, 0)); d > ttl || d < ttl-time.Minute {
				t.Errorf("link expires in %v, want about %v", d, ttl)
			}
			// The same link does not grant another method.
			if _, err := store.VerifyDownload("DELETE", u.Query()); err == nil {
				t.Error("a GET link verified for DELETE")
			}
		},
		CheckRefused: func(t *testing.T, rawURL string) {
			t.Helper()
			u, err := url.Parse(rawURL)
			if err != nil {
				t.Fatalf("parse %q: %v", rawURL, err)
			}
			if key, err := store.VerifyDownload("GET", u.Query()); err == nil {
				t.Errorf("VerifyDownload granted %q for %s", key, rawURL)
			}
		},
	}
}

func newSigner(t *testing.T) *localfs.Signer {
	t.Helper()
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	signer, err := localfs.NewSigner([]config.SigningKey{{ID: "t", Secret: secret}})
	if err != nil {
		t.Fatalf("NewSigner: %v", err)
	}
	return signer
}

// os.Root resolves every path inside the storage dir, so a symlink planted
// there (by another process on the host, a restored backup, a bug) cannot
// make the service read or write outside it.
func TestLocalDoesNotFollowSymlinksOut(t *testing.T) {
	const secret = "canary: outside the storage root"
	outside := t.TempDir()
	canary := filepath.Join(outside, "canary")
	if err := os.WriteFile(canary, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("open through a file symlink", func(t *testing.T) {
		targets := []struct {
			name   string
			target func(link string) (string, error)
		}{
			{"absolute", func(string) (string, error) { return canary, nil }},
			{"relative", func(link string) (string, error) { return filepath.Rel(filepath.Dir(link), canary) }},
		}
		for _, tt := range targets {
			t.Run(tt.name, func(t *testing.T) {
				dir := t.TempDir()
				store, err := localfs.New(dir, newSigner(t), downloadPath)
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				defer store.Close()
				key := storagetest.NewKey()
				link := filepath.Join(dir, filepath.FromSlash(key))
				if err := os.MkdirAll(filepath.Dir(link), 0o750); err != nil {
					t.Fatal(err)
				}
				target, err := tt.target(link)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(target, link); err != nil {
					t.Fatal(err)
				}
				// Control: the planted link does reach the canary, so an
				// implementation that opened paths with os.Open would leak it.
				if b, err := os.ReadFile(link); err != nil || string(b) != secret {
					t.Fatalf("control: os.ReadFile through the link = (%q, %v), want the canary", b, err)
				}

				rc, err := store.Open(t.Context(), key)
				if err == nil {
					b, _ := io.ReadAll(rc)
					_ = rc.Close()
					t.Fatalf("Open followed the symlink out of the root and read %q", b)
				}
			})
		}
	})

	t.Run("put through a directory symlink", func(t *testing.T) {
		dir := t.TempDir()
		store, err := localfs.New(dir, newSigner(t), downloadPath)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		defer store.Close()
		owner := uuid.New()
		if err := os.MkdirAll(filepath.Join(dir, "owners"), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(outside, filepath.Join(dir, "owners", owner.String())); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Put(t.Context(), files.NewObjectKey(owner), strings.NewReader("planted")); err == nil {
			t.Error("Put wrote through a symlink pointing out of the root")
		}
		entries, err := os.ReadDir(outside)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 {
			t.Errorf("outside dir now holds %d entries, want only the canary", len(entries))
		}
	})
}
