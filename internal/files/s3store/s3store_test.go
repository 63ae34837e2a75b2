package s3store_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/bulwark-dev/bulwark/internal/files"
	"github.com/bulwark-dev/bulwark/internal/files/s3store"
	"github.com/bulwark-dev/bulwark/internal/files/storagetest"
)

const (
	testBucket    = "bulwark-test"
	testAccessKey = "test-access-key"
	testSecretKey = "test-secret-key-never-printed"
	testRegion    = "us-east-1"
)

func TestStorageContract(t *testing.T) {
	storagetest.Run(t, newBackend)
}

// The S3 backend, against gofakes3: an S3 server in memory, speaking the
// S3 HTTP protocol on loopback, so the real minio-go client code runs.

func newBackend(t *testing.T) storagetest.Backend {
	t.Helper()
	endpoint := startFakeS3(t)
	admin := adminClient(t, endpoint)
	// The tests create the bucket; New only checks that it exists.
	if err := admin.MakeBucket(t.Context(), testBucket, minio.MakeBucketOptions{Region: testRegion}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	store, err := s3store.New(t.Context(), testConfig(endpoint))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return storagetest.Backend{
		Storage: store,
		Objects: func(t *testing.T) []string {
			t.Helper()
			var keys []string
			for obj := range admin.ListObjects(t.Context(), testBucket, minio.ListObjectsOptions{Recursive: true}) {
				if obj.Err != nil {
					t.Fatalf("list objects: %v", obj.Err)
				}
				keys = append(keys, obj.Key)
			}
			return keys
		},
		Leftovers: func(t *testing.T) []string { return incompleteUploads(t, admin) },
		CheckDownloadURL: func(t *testing.T, _, rawURL string, want []byte, filename, contentType string, ttl time.Duration) {
			t.Helper()
			u, err := url.Parse(rawURL)
			if err != nil {
				t.Fatalf("parse %q: %v", rawURL, err)
			}
			// gofakes3 does not check signatures or expiry, so what a real
			// store enforces is checked on the URL itself.
			q := u.Query()
			if got, want := q.Get("X-Amz-Expires"), strconv.Itoa(int(ttl.Seconds())); got != want {
				t.Errorf("X-Amz-Expires = %q, want %q", got, want)
			}
			if q.Get("X-Amz-Signature") == "" || !strings.Contains(q.Get("X-Amz-SignedHeaders"), "host") {
				t.Errorf("URL %q is not a SigV4 presigned URL", rawURL)
			}
			if strings.Contains(rawURL, testSecretKey) {
				t.Error("the presigned URL contains the secret key")
			}
			if got := q.Get("response-content-disposition"); !strings.HasPrefix(got, "attachment") {
				t.Errorf("response-content-disposition = %q, want an attachment", got)
			}
			// The link leads to the store; the service's download route
			// grants none of the S3 backend's links.
			if _, err := store.VerifyDownload(http.MethodGet, q); err == nil {
				t.Error("VerifyDownload granted a presigned S3 link")
			}

			// And a client, without credentials, downloads it.
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, rawURL, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("GET presigned URL: %v", err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("read body: %v", err)
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET presigned URL: %s: %s", resp.Status, body)
			}
			if !bytes.Equal(body, want) {
				t.Errorf("downloaded %q, want %q", body, want)
			}
			if diff := cmp.Diff(files.ContentDisposition(filename), resp.Header.Get("Content-Disposition")); diff != "" {
				t.Errorf("Content-Disposition (-want +got):\n%s", diff)
			}
			if got := resp.Header.Get("Content-Type"); got != contentType {
				t.Errorf("Content-Type = %q, want %q", got, contentType)
			}
		},
	}
}

// startFakeS3 serves an in-memory S3 on 127.0.0.1 and returns its host:port.
func startFakeS3(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(decodeChunkedParts(gofakes3.New(s3mem.New()).Server()))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// decodeChunkedParts makes up for a gap in gofakes3 v1.2.0: it decodes the
// aws-chunked body of a streaming-signed request (what minio-go sends over
// plain HTTP, STREAMING-AWS4-HMAC-SHA256-PAYLOAD) for PutObject, but stores
// the chunk framing as data for UploadPart. S3 and MinIO decode both.
func decodeChunkedParts(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && r.URL.Query().Has("partNumber") &&
			strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-") {
			body, err := decodeAWSChunked(r.Body)
			if err == nil && strconv.Itoa(len(body)) != r.Header.Get("X-Amz-Decoded-Content-Length") {
				err = errors.New("decoded length differs from X-Amz-Decoded-Content-Length")
			}
			if err != nil {
				http.Error(w, "aws-chunked body: "+err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
			r.Header.Set("Content-Length", strconv.Itoa(len(body)))
			r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		}
		next.ServeHTTP(w, r)
	})
}

// decodeAWSChunked reads "<hex size>;chunk-signature=<sig>\r\n<data>\r\n"
// chunks up to the final zero-size one (signatures are not checked: gofakes3
// checks none either).
func decodeAWSChunked(r io.Reader) ([]byte, error) {
	br := bufio.NewReader(r)
	var out bytes.Buffer
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		sizeHex, _, _ := strings.Cut(strings.TrimRight(line, "\r\n"), ";")
		size, err := strconv.ParseInt(sizeHex, 16, 64)
		if err != nil || size < 0 {
			return nil, fmt.Errorf("chunk size %q", sizeHex)
		}
		if _, err := io.CopyN(&out, br, size); err != nil {
			return nil, err
		}
		if crlf, err := br.ReadString('\n'); err != nil || crlf != "\r\n" {
			return nil, fmt.Errorf("chunk of %d bytes not followed by CRLF", size)
		}
		if size == 0 {
			return out.Bytes(), nil
		}
	}
}

func testConfig(endpoint string) s3store.Config {
	return s3store.Config{
		Endpoint:  endpoint,
		Bucket:    testBucket,
		AccessKey: testAccessKey,
		SecretKey: testSecretKey,
		Region:    testRegion,
		UseTLS:    false, // loopback only
	}
}

// adminClient is the test's own client, for what the service never does:
// creating buckets and looking at the store behind the backend's back.
func adminClient(t *testing.T, endpoint string) *minio.Client {
	t.Helper()
	c, err := minio.New(endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(testAccessKey, testSecretKey, ""),
		Region: testRegion,
	})
	if err != nil {
		t.Fatalf("minio client: %v", err)
	}
	return c
}

func incompleteUploads(t *testing.T, c *minio.Client) []string {
	t.Helper()
	var uploads []string
	for u := range c.ListIncompleteUploads(t.Context(), testBucket, "", true) {
		// gofakes3 answers NoSuchUpload for a bucket that never had a
		// multipart upload, where S3 answers with an empty list.
		if minio.ToErrorResponse(u.Err).Code == minio.NoSuchUpload {
			break
		}
		if u.Err != nil {
			t.Fatalf("list incomplete uploads: %v", u.Err)
		}
		uploads = append(uploads, u.Key+"?uploadId="+u.UploadID)
	}
	return uploads
}

// Control for the S3 leftovers check: an upload that was started and never
// finished is seen, so "no leftovers" in the contract means something.
func TestS3LeftoversAreVisible(t *testing.T) {
	endpoint := startFakeS3(t)
	admin := adminClient(t, endpoint)
	if err := admin.MakeBucket(t.Context(), testBucket, minio.MakeBucketOptions{Region: testRegion}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	core := minio.Core{Client: admin}
	if _, err := core.NewMultipartUpload(t.Context(), testBucket, storagetest.NewKey(), minio.PutObjectOptions{}); err != nil {
		t.Fatalf("start multipart upload: %v", err)
	}
	if got := incompleteUploads(t, admin); len(got) != 1 {
		t.Fatalf("incomplete uploads = %q, want the one just started", got)
	}
}

func TestNewS3(t *testing.T) {
	endpoint := startFakeS3(t)
	admin := adminClient(t, endpoint)

	t.Run("missing bucket is an error, not created", func(t *testing.T) {
		_, err := s3store.New(t.Context(), testConfig(endpoint))
		if err == nil {
			t.Fatal("New accepted a bucket that does not exist")
		}
		if !strings.Contains(err.Error(), testBucket) {
			t.Errorf("error %q does not name the bucket", err)
		}
		if strings.Contains(err.Error(), testSecretKey) {
			t.Errorf("error %q contains the secret key", err)
		}
		if ok, err := admin.BucketExists(t.Context(), testBucket); err != nil || ok {
			t.Errorf("BucketExists after New = (%t, %v): New must not create buckets", ok, err)
		}
	})

	t.Run("unreachable store is an error without the secret", func(t *testing.T) {
		// minio-go retries a refused connection; the deadline ends that.
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		cfg := testConfig(closedPort(t))
		_, err := s3store.New(ctx, cfg)
		if err == nil {
			t.Fatal("New succeeded against a closed port")
		}
		if strings.Contains(err.Error(), testSecretKey) {
			t.Errorf("error %q contains the secret key", err)
		}
	})

	t.Run("missing credentials", func(t *testing.T) {
		cfg := testConfig(endpoint)
		cfg.SecretKey = ""
		if _, err := s3store.New(t.Context(), cfg); err == nil {
			t.Error("New accepted an empty secret key")
		}
	})
}

func TestS3ConfigHidesSecret(t *testing.T) {
	cfg := testConfig("127.0.0.1:9000")
	var jsonLog, textLog bytes.Buffer
	slog.New(slog.NewJSONHandler(&jsonLog, nil)).Info("storage", "s3", cfg)
	slog.New(slog.NewTextHandler(&textLog, nil)).Info("storage", "s3", cfg)
	for name, out := range map[string]string{
		"%v":        fmt.Sprintf("%v", cfg),
		"%+v":       fmt.Sprintf("%+v", cfg),
		"String":    cfg.String(),
		"slog JSON": jsonLog.String(),
		"slog text": textLog.String(),
	} {
		if strings.Contains(out, testSecretKey) {
			t.Errorf("%s prints the secret key: %s", name, out)
		}
		if !strings.Contains(out, testBucket) {
			t.Errorf("%s lost the non-secret fields: %s", name, out)
		}
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.Listener.Addr().String()
	srv.Close()
	return addr
}
