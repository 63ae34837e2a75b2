// Package s3store is the file storage backend on an S3-compatible object
// store, through minio-go (docs/06-file-access.md).
package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/url"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/bulwark-dev/bulwark/internal/files"
)

// Config locates the bucket of the S3 backend. Any S3-compatible store
// works (AWS S3, MinIO, Ceph, R2); path-style addressing is chosen
// automatically for endpoints that are not AWS, Google or Aliyun hosts.
type Config struct {
	Endpoint  string // host:port, no scheme
	Bucket    string
	AccessKey string
	SecretKey string
	// Region may be empty: the client then asks the store once per bucket.
	Region string
	// UseTLS false sends the secret-signed requests and the objects in
	// clear text: only for a store on loopback or a private network.
	UseTLS bool
}

// String masks the secret key, so printing the config, with %v or %+v or
// through slog's text handler, never reveals it.
func (c Config) String() string {
	return fmt.Sprintf("{Endpoint:%s Bucket:%s AccessKey:%s SecretKey:***** Region:%s UseTLS:%t}",
		c.Endpoint, c.Bucket, c.AccessKey, c.Region, c.UseTLS)
}

// LogValue masks the secret key for slog's JSON handler too, which would
// otherwise log the struct field by field.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("endpoint", c.Endpoint),
		slog.String("bucket", c.Bucket),
		slog.String("access_key", c.AccessKey),
		slog.String("secret_key", "*****"),
		slog.String("region", c.Region),
		slog.Bool("use_tls", c.UseTLS),
	)
}

// Bucket stores objects in one bucket of an S3-compatible store.
type Bucket struct {
	client *minio.Client
	bucket string
}

// partSize is the size of one multipart upload part, and the memory one
// upload holds: Put reads the first part itself, then minio-go reads and
// sends the rest one part at a time (PutObject's ConcurrentStreamParts stays
// off). So a Put holds 16 MiB, 32 MiB for a moment when a body longer than
// one part is handed over, and n concurrent uploads n times that: bound
// upload concurrency in the caller accordingly. S3 allows 10,000 parts, so
// objects can reach 156 GiB; the request body limit stops uploads long
// before that.
const partSize = 16 << 20

// New connects to the store and checks that the bucket exists. It does
// not create the bucket: its policy, encryption and lifecycle are the
// operator's decisions, and a typo in the name must stop the service rather
// than quietly start a second, unconfigured bucket.
func New(ctx context.Context, cfg Config) (*Bucket, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("S3 storage needs an endpoint and a bucket")
	}
	if cfg.AccessKey == "" || cfg.SecretKey == "" {
		return nil, errors.New("S3 storage needs an access key and a secret key")
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.UseTLS,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("S3 client for %s: %w", cfg.Endpoint, err)
	}
	exists, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("check S3 bucket %q at %s: %w", cfg.Bucket, cfg.Endpoint, err)
	}
	if !exists {
		return nil, fmt.Errorf("S3 bucket %q does not exist at %s: create it before starting the service", cfg.Bucket, cfg.Endpoint)
	}
	return &Bucket{client: client, bucket: cfg.Bucket}, nil
}

// Put implements files.Storage. The size of a streamed request body is
// unknown until its end, so Put first reads up to one part. A body that
// ends within it, most uploads, goes up in one plain PUT of known size:
// atomic, one request instead of three, and no multipart upload to abort,
// or to leak if the process dies midway. A longer body goes up in parts,
// and minio-go completes the multipart upload only after the body reached
// EOF; until then the object does not exist.
func (s *Bucket) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if !files.ValidObjectKey(key) {
		return 0, fmt.Errorf("refusing to store under malformed key %q", key)
	}
	body := &uploadReader{r: files.ContextReader(ctx, r)}
	first := make([]byte, partSize)
	n, err := io.ReadFull(body, first)
	src, size := io.Reader(nil), int64(-1)
	switch {
	// == on purpose: these are io.ReadFull's own "body ended" answers. A
	// body that failed with io.ErrUnexpectedEOF comes wrapped (uploadReader)
	// and must not match here, as errors.Is would make it.
	case err == io.EOF || err == io.ErrUnexpectedEOF: //nolint:errorlint // see above
		src, size = bytes.NewReader(first[:n]), int64(n)
	case err != nil:
		return 0, fmt.Errorf("store %s: %w", key, err)
	default:
		src = io.MultiReader(bytes.NewReader(first), body)
	}
	opts := minio.PutObjectOptions{
		PartSize:   partSize,
		NumThreads: 1, // one part in flight: see partSize
		// The store never serves the object with a type taken from the
		// upload; DownloadURL names the type for each download.
		ContentType: "application/octet-stream",
	}
	if size == 0 {
		// Over plain HTTP minio-go signs the body chunk by chunk, and sends
		// an empty one chunked, without the Content-Length that AWS S3
		// requires on a PUT (411 MissingContentLength; versitygw, which the
		// tests run against, accepts it). A signed Content-MD5 of the empty
		// body protects it instead.
		opts.DisableContentSha256, opts.SendContentMd5 = true, true
	}
	info, err := s.client.PutObject(ctx, s.bucket, key, src, size, opts)
	if err != nil {
		// minio-go has already aborted a multipart upload, detached from
		// ctx, so its parts are gone. The object can still exist if the
		// store completed it but the answer was lost; keys are never reused
		// (files.NewObjectKey), so whatever is under key is this failed upload.
		s.removeDetached(ctx, key)
		return 0, fmt.Errorf("store %s: %w", key, err)
	}
	return info.Size, nil
}

// uploadReader passes the body to minio-go with every read error kept an
// error. minio-go's part reader (v7.4.1, readFull in utils.go) takes a
// (0, io.ErrUnexpectedEOF), which is what a request body returns when the
// client hangs up mid-upload, for the end of the stream, and would complete
// the upload with a truncated object; it also drops an error returned with
// the last bytes of a part. A wrapped error, repeated on every later read,
// gets through both.
type uploadReader struct {
	r   io.Reader
	err error
}

func (u *uploadReader) Read(p []byte) (int, error) {
	if u.err != nil {
		return 0, u.err
	}
	n, err := u.r.Read(p)
	if err != nil && err != io.EOF {
		u.err = uploadError{err}
		if n > 0 {
			return n, nil // the error comes on the next call, alone
		}
		return 0, u.err
	}
	return n, err
}

// uploadError is a read error of the upload body, still matched by
// errors.Is against the original.
type uploadError struct{ err error }

func (e uploadError) Error() string { return "read upload: " + e.err.Error() }
func (e uploadError) Unwrap() error { return e.err }

// removeDetached deletes key even when ctx is already cancelled, the usual
// reason a Put failed; its own error is dropped, the Put's is the one to
// report.
func (s *Bucket) removeDetached(ctx context.Context, key string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_ = s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{})
}

// Open implements files.Storage. GetObject is lazy; Stat sends the GET
// now, so a missing key is reported here, not at the caller's first Read,
// and the body of that same response is what the caller then reads.
func (s *Bucket) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if !files.ValidObjectKey(key) {
		return nil, files.ErrObjectNotFound
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	if _, err := obj.Stat(); err != nil {
		_ = obj.Close()
		if isNoSuchKey(err) {
			return nil, files.ErrObjectNotFound
		}
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	return obj, nil
}

// Delete implements files.Storage.
func (s *Bucket) Delete(ctx context.Context, key string) error {
	if !files.ValidObjectKey(key) {
		return fmt.Errorf("refusing to delete malformed key %q", key)
	}
	// S3 answers 204 for a missing key already; other stores may not.
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil && !isNoSuchKey(err) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// DownloadURL implements files.Storage with a presigned GET. The
// response-* parameters are part of the signature, so the holder of the
// link cannot change them: the store serves the object as an attachment,
// never inline, whatever its bytes are, under the type recorded for it.
func (s *Bucket) DownloadURL(ctx context.Context, key, filename, contentType string, ttl time.Duration) (string, error) {
	if !files.ValidObjectKey(key) {
		return "", fmt.Errorf("refusing to sign malformed key %q", key)
	}
	if _, _, err := mime.ParseMediaType(contentType); err != nil {
		contentType = "application/octet-stream"
	}
	params := url.Values{}
	params.Set("response-content-disposition", files.ContentDisposition(filename))
	params.Set("response-content-type", contentType)
	u, err := s.client.PresignedGetObject(ctx, s.bucket, key, ttl, params)
	if err != nil {
		return "", fmt.Errorf("presign %s: %w", key, err)
	}
	return u.String(), nil
}

// VerifyDownload implements files.Storage. The presigned links of S3 lead
// to the store, which checks them; none is meant for the service's own
// download route, so every one that arrives there is refused.
func (s *Bucket) VerifyDownload(string, url.Values) (string, error) {
	return "", errors.New("the S3 backend's links are checked by the store, not by the download route")
}

// isNoSuchKey reports whether err is the store's answer for a missing key.
func isNoSuchKey(err error) bool {
	var resp minio.ErrorResponse
	return errors.As(err, &resp) && resp.Code == minio.NoSuchKey
}

// List implements files.Lister: every object under owners/.
func (b *Bucket) List(ctx context.Context, fn func(key string, modified time.Time) error) error {
	for obj := range b.client.ListObjects(ctx, b.bucket, minio.ListObjectsOptions{Prefix: "owners/", Recursive: true}) {
		if obj.Err != nil {
			return fmt.Errorf("list objects: %w", obj.Err)
		}
		if err := fn(obj.Key, obj.LastModified); err != nil {
			return err
		}
	}
	return nil
}
