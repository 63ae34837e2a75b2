package files

import (
	"context"
	"errors"
	"io"
	"net/url"
	"time"
)

// ErrObjectNotFound is returned by a Storage for a key it does not hold.
var ErrObjectNotFound = errors.New("object not found") //nolint:gochecknoglobals // sentinel.

// Storage holds file contents under server-built keys (keys.go). Each
// backend is a package of its own, around its one outside dependency: local
// disk (localfs) and S3 (s3store). Both pass the same contract tests
// (storagetest).
type Storage interface {
	// Put stores r under key, all or nothing: a reader that fails halfway
	// leaves no object behind. It returns the number of bytes written.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// Open streams the object; the caller closes it.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes the object; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// DownloadURL returns a URL that lets its holder download the object
	// until ttl has passed, served as an attachment named filename.
	DownloadURL(ctx context.Context, key, filename, contentType string, ttl time.Duration) (string, error)
	// VerifyDownload checks the query of a download link that came back to
	// the service's own download route and returns the key it grants. The
	// backend that signed the link is the one that checks it: the local
	// backend's links lead to that route; S3's lead to the store, which
	// checks them itself, so the S3 backend refuses every one.
	VerifyDownload(method string, query url.Values) (key string, err error)
}

// ContextReader stops a copy into storage when ctx is cancelled (the
// client went away), so an abandoned upload is cleaned up promptly.
func ContextReader(ctx context.Context, r io.Reader) io.Reader {
	return contextReader{ctx: ctx, r: r}
}

type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
