// Package localfs is the file storage backend on local disk, and the
// signer of its download links (docs/06-file-access.md). The signer lives
// here because these are the only links that come back to the service's
// own download route: the S3 backend's are presigned and checked by the
// store. The backend that signs a link is the one that checks it
// (VerifyDownload), so one signer, built once, does both.
package localfs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"time"

	"github.com/bulwark-dev/bulwark/internal/files"
)

// Dir stores objects in a directory, opened as an os.Root: every path is
// resolved inside that directory by the kernel-backed checks of os.Root,
// so "..", absolute paths and symlinks pointing out cannot escape it, even
// if a key were ever built wrongly (docs/06-file-access.md).
type Dir struct {
	root    *os.Root
	signer  *Signer
	baseURL string // path of the signed download route
}

// tmpDir holds uploads in progress; only a complete file is renamed into
// place, so an interrupted upload never leaves a partial object.
const tmpDir = "tmp"

// New opens dir as the storage root, creating it if needed. Its download
// links are paths to downloadPath, signed by signer.
func New(dir string, signer *Signer, downloadPath string) (*Dir, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create storage dir: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open storage root: %w", err)
	}
	if err := root.MkdirAll(tmpDir, 0o750); err != nil {
		_ = root.Close()
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	l := &Dir{root: root, signer: signer, baseURL: downloadPath}
	l.sweepTemp(time.Hour)
	return l, nil
}

// sweepTemp removes temp files older than age: uploads of a process that
// was killed mid-write. Younger ones may belong to another process still
// writing.
func (l *Dir) sweepTemp(age time.Duration) {
	entries, err := fs.ReadDir(l.root.FS(), tmpDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > age {
			_ = l.root.Remove(path.Join(tmpDir, e.Name()))
		}
	}
}

// Close releases the root.
func (l *Dir) Close() error { return l.root.Close() }

// Put implements files.Storage.
func (l *Dir) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if !files.ValidObjectKey(key) {
		return 0, fmt.Errorf("refusing to store under malformed key %q", key)
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	tmp := path.Join(tmpDir, hex.EncodeToString(b[:]))
	f, err := l.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return 0, fmt.Errorf("create temp file: %w", err)
	}
	n, err := io.Copy(f, files.ContextReader(ctx, r))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = l.root.MkdirAll(path.Dir(key), 0o750)
	}
	if err == nil {
		err = l.root.Rename(tmp, key)
	}
	if err != nil {
		_ = l.root.Remove(tmp) // nothing partial stays behind
		return 0, fmt.Errorf("store %s: %w", key, err)
	}
	// The rename is durable only once the directory entry is: without this
	// a power cut could lose an object whose row is already committed.
	if err := l.syncDir(path.Dir(key)); err != nil {
		return 0, fmt.Errorf("sync %s: %w", path.Dir(key), err)
	}
	return n, nil
}

func (l *Dir) syncDir(dir string) error {
	d, err := l.root.Open(dir)
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }()
	return d.Sync()
}

// Open implements files.Storage.
func (l *Dir) Open(_ context.Context, key string) (io.ReadCloser, error) {
	if !files.ValidObjectKey(key) {
		return nil, files.ErrObjectNotFound
	}
	f, err := l.root.Open(key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, files.ErrObjectNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	return f, nil
}

// Delete implements files.Storage.
func (l *Dir) Delete(_ context.Context, key string) error {
	if !files.ValidObjectKey(key) {
		return fmt.Errorf("refusing to delete malformed key %q", key)
	}
	if err := l.root.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// DownloadURL implements files.Storage: a path to the signed download route.
// The path is relative to the API's origin; building an absolute URL from
// the request's Host header would let a forged header point links at
// another site.
func (l *Dir) DownloadURL(_ context.Context, key, _, _ string, ttl time.Duration) (string, error) {
	q, _ := l.signer.Sign("GET", key, ttl)
	return l.baseURL + "?" + q.Encode(), nil
}

// VerifyDownload implements files.Storage: the link must carry a valid
// signature of this backend's signer for method.
func (l *Dir) VerifyDownload(method string, query url.Values) (string, error) {
	return l.signer.Verify(method, query)
}

// List implements files.Lister: every regular file under owners/.
func (l *Dir) List(ctx context.Context, fn func(key string, modified time.Time) error) error {
	err := fs.WalkDir(l.root.FS(), "owners", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return fn(p, info.ModTime())
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil // nothing stored yet
	}
	return err
}
