package files

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrObjectNotFound is returned by a Storage for a key it does not hold.
var ErrObjectNotFound = errors.New("object not found") //nolint:gochecknoglobals // sentinel.

// Storage holds file contents under server-built keys (keys.go). Both
// backends, local disk (local.go) and S3 (s3.go), pass the same contract
// tests (storage_test.go).
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
}
