package s3store_test

import (
	"bytes"
	"context"
	"encoding/xml"
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
	"github.com/minio/minio-go/v7"

	"github.com/bulwark-dev/bulwark/internal/files"
	"github.com/bulwark-dev/bulwark/internal/files/s3store"
	"github.com/bulwark-dev/bulwark/internal/files/s3store/s3test"
	"github.com/bulwark-dev/bulwark/internal/files/storagetest"
)

func TestStorageContract(t *testing.T) {
	srv := s3test.Start(t)
	storagetest.Run(t, func(t *testing.T) storagetest.Backend { return newBackend(t, srv) })
}

// The S3 backend against versitygw, a real S3 server on loopback
// (s3test): the real minio-go client code runs, and the server checks
// every signature and expiry, so a download link is proven, not just
// inspected. Each case gets a bucket of its own.
func newBackend(t *testing.T, srv *s3test.Server) storagetest.Backend {
	t.Helper()
	bucket := srv.NewBucket(t)
	admin := srv.Client(t)
	store, err := s3store.New(t.Context(), testConfig(srv, bucket))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return storagetest.Backend{
		Storage: store,
		Objects: func(t *testing.T) []string {
			t.Helper()
			var keys []string
			for obj := range admin.ListObjects(t.Context(), bucket, minio.ListObjectsOptions{Recursive: true}) {
				if obj.Err != nil {
					t.Fatalf("list objects: %v", obj.Err)
				}
				keys = append(keys, obj.Key)
			}
			return keys
		},
		Leftovers: func(t *testing.T) []string { return incompleteUploads(t, admin, bucket) },
		CheckDownloadURL: func(t *testing.T, _, rawURL string, want []byte, filename, contentType string, ttl time.Duration) {
			t.Helper()
			u, err := url.Parse(rawURL)
			if err != nil {
				t.Fatalf("parse %q: %v", rawURL, err)
			}
			q := u.Query()
			if got, want := q.Get("X-Amz-Expires"), strconv.Itoa(int(ttl.Seconds())); got != want {
				t.Errorf("X-Amz-Expires = %q, want %q", got, want)
			}
			if strings.Contains(rawURL, srv.SecretKey) {
				t.Error("the presigned URL contains the secret key")
			}
			// The link leads to the store; the service's download route
			// grants none of the S3 backend's links.
			if _, err := store.VerifyDownload(http.MethodGet, q); err == nil {
				t.Error("VerifyDownload granted a presigned S3 link")
			}

			// A client without credentials downloads it from the store.
			status, header, body := get(t, rawURL)
			if status != http.StatusOK {
				t.Fatalf("GET presigned URL: %d: %s", status, body)
			}
			if !bytes.Equal(body, want) {
				t.Errorf("downloaded %q, want %q", body, want)
			}
			if diff := cmp.Diff(files.ContentDisposition(filename), header.Get("Content-Disposition")); diff != "" {
				t.Errorf("Content-Disposition (-want +got):\n%s", diff)
			}
			if got := header.Get("Content-Type"); got != contentType {
				t.Errorf("Content-Type = %q, want %q", got, contentType)
			}
		},
		CheckRefused: func(t *testing.T, rawURL string) {
			t.Helper()
			// The store itself says no: the service is not in the path.
			// A link whose signature, expiry or signed parameters were
			// changed is 403; one whose authentication parameters are
			// missing or malformed is not even a signed request to the
			// store, which answers 400 AuthorizationQueryParametersError.
			status, _, body := get(t, rawURL)
			code := s3ErrorCode(body)
			if status != http.StatusForbidden && (status != http.StatusBadRequest || code != "AuthorizationQueryParametersError") {
				t.Errorf("GET %s: %d %s, want the store's refusal: %s", rawURL, status, code, body)
			}
		},
	}
}

// get fetches rawURL without credentials, as a browser given the link does.
func get(t *testing.T, rawURL string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp.StatusCode, resp.Header, body
}

// s3ErrorCode is the Code of an S3 error document ("" if body is none).
func s3ErrorCode(body []byte) string {
	var doc struct {
		Code string `xml:"Code"`
	}
	if xml.Unmarshal(body, &doc) != nil {
		return ""
	}
	return doc.Code
}

func testConfig(srv *s3test.Server, bucket string) s3store.Config {
	return s3store.Config{
		Endpoint:  srv.Endpoint,
		Bucket:    bucket,
		AccessKey: srv.AccessKey,
		SecretKey: srv.SecretKey,
		Region:    s3test.Region,
		UseTLS:    false, // loopback only
	}
}

func incompleteUploads(t *testing.T, c *minio.Client, bucket string) []string {
	t.Helper()
	var uploads []string
	for u := range c.ListIncompleteUploads(t.Context(), bucket, "", true) {
		if u.Err != nil {
			t.Fatalf("list incomplete uploads: %v", u.Err)
		}
		uploads = append(uploads, u.Key+"?uploadId="+u.UploadID)
	}
	return uploads
}

// The forgeries a holder of one link would try, each refused by the store
// with a 403: the signature covers the object's path, the expiry, the time
// of signing and the response-* overrides, so none can be changed.
func TestS3StoreRefusesForgedLinks(t *testing.T) {
	srv := s3test.Start(t)
	backend := newBackend(t, srv)
	ctx := t.Context()
	mine, theirs := storagetest.NewKey(), storagetest.NewKey()
	content := map[string][]byte{mine: []byte("mine"), theirs: []byte("theirs, another owner's")}
	links := map[string]*url.URL{}
	for _, key := range []string{mine, theirs} {
		if _, err := backend.Storage.Put(ctx, key, bytes.NewReader(content[key])); err != nil {
			t.Fatalf("Put: %v", err)
		}
		raw, err := backend.Storage.DownloadURL(ctx, key, "f.txt", "text/plain", 5*time.Minute)
		if err != nil {
			t.Fatalf("DownloadURL: %v", err)
		}
		if links[key], err = url.Parse(raw); err != nil {
			t.Fatal(err)
		}
		// Control: each untouched link downloads its own object.
		if status, _, body := get(t, raw); status != http.StatusOK || !bytes.Equal(body, content[key]) {
			t.Fatalf("control: untouched link: %d %q", status, body)
		}
	}
	link := links[mine]
	date, err := time.Parse("20060102T150405Z", link.Query().Get("X-Amz-Date"))
	if err != nil {
		t.Fatalf("X-Amz-Date: %v", err)
	}
	withQuery := func(name, value string) string {
		u := *link
		q := u.Query()
		q.Set(name, value)
		u.RawQuery = q.Encode()
		return u.String()
	}
	withPath := func(path string) string {
		u := *link
		u.Path = path
		return u.String()
	}
	bucketDir := link.Path[:strings.Index(link.Path, "/owners/")+1]
	for _, tt := range []struct{ name, url string }{
		{"another object's signature", withQuery("X-Amz-Signature", links[theirs].Query().Get("X-Amz-Signature"))},
		{"another owner's object, this link's signature", withPath(links[theirs].Path)},
		{"a traversal to another owner's object", withPath(link.Path + "/../../../../" + strings.TrimPrefix(links[theirs].Path, bucketDir))},
		{"the bucket listing, this link's signature", withPath(bucketDir)},
		{"expiry raised to a week", withQuery("X-Amz-Expires", "604800")},
		{"signed an hour later", withQuery("X-Amz-Date", date.Add(time.Hour).Format("20060102T150405Z"))},
		{"served inline", withQuery("response-content-disposition", "inline")},
		{"served as HTML", withQuery("response-content-type", "text/html")},
		{"an added override", withQuery("response-cache-control", "public, max-age=31536000")},
		{"no query at all", (&url.URL{Scheme: link.Scheme, Host: link.Host, Path: link.Path}).String()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := get(t, tt.url)
			if status != http.StatusForbidden {
				t.Errorf("GET %s: %d, want 403 from the store: %s", tt.url, status, body)
			}
			for _, c := range content {
				if bytes.Contains(body, c) {
					t.Errorf("GET %s: the body holds an object: %s", tt.url, body)
				}
			}
		})
	}
}

// Control for the S3 leftovers check: an upload that was started and never
// finished is seen, so "no leftovers" in the contract means something.
func TestS3LeftoversAreVisible(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	admin := srv.Client(t)
	core := minio.Core{Client: admin}
	if _, err := core.NewMultipartUpload(t.Context(), bucket, storagetest.NewKey(), minio.PutObjectOptions{}); err != nil {
		t.Fatalf("start multipart upload: %v", err)
	}
	if got := incompleteUploads(t, admin, bucket); len(got) != 1 {
		t.Fatalf("incomplete uploads = %q, want the one just started", got)
	}
}

func TestNewS3(t *testing.T) {
	srv := s3test.Start(t)
	admin := srv.Client(t)

	t.Run("missing bucket is an error, not created", func(t *testing.T) {
		const missing = "bulwark-never-created"
		_, err := s3store.New(t.Context(), testConfig(srv, missing))
		if err == nil {
			t.Fatal("New accepted a bucket that does not exist")
		}
		if !strings.Contains(err.Error(), missing) {
			t.Errorf("error %q does not name the bucket", err)
		}
		if strings.Contains(err.Error(), srv.SecretKey) {
			t.Errorf("error %q contains the secret key", err)
		}
		if ok, err := admin.BucketExists(t.Context(), missing); err != nil || ok {
			t.Errorf("BucketExists after New = (%t, %v): New must not create buckets", ok, err)
		}
	})

	t.Run("wrong secret key is refused by the store", func(t *testing.T) {
		cfg := testConfig(srv, srv.NewBucket(t))
		cfg.SecretKey = "not-" + srv.SecretKey
		_, err := s3store.New(t.Context(), cfg)
		if err == nil {
			t.Fatal("New succeeded with a wrong secret key")
		}
		// The bucket check is a HEAD, whose answer has no body to name
		// the reason: the status says it.
		var resp minio.ErrorResponse
		if !errors.As(err, &resp) || resp.StatusCode != http.StatusForbidden {
			t.Errorf("New with a wrong secret: %v, want the store's 403", err)
		}
		if strings.Contains(err.Error(), cfg.SecretKey) {
			t.Errorf("error %q contains the secret key", err)
		}
	})

	t.Run("unreachable store is an error without the secret", func(t *testing.T) {
		// minio-go retries a refused connection; the deadline ends that.
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		cfg := testConfig(srv, "bulwark-test")
		cfg.Endpoint = closedPort(t)
		_, err := s3store.New(ctx, cfg)
		if err == nil {
			t.Fatal("New succeeded against a closed port")
		}
		if strings.Contains(err.Error(), srv.SecretKey) {
			t.Errorf("error %q contains the secret key", err)
		}
	})

	t.Run("missing credentials", func(t *testing.T) {
		cfg := testConfig(srv, srv.NewBucket(t))
		cfg.SecretKey = ""
		if _, err := s3store.New(t.Context(), cfg); err == nil {
			t.Error("New accepted an empty secret key")
		}
	})
}

func TestS3ConfigHidesSecret(t *testing.T) {
	const secret = "test-secret-key-never-printed"
	cfg := s3store.Config{Endpoint: "127.0.0.1:9000", Bucket: "bulwark-test", AccessKey: "test-access-key", SecretKey: secret, Region: s3test.Region}
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
		if strings.Contains(out, secret) {
			t.Errorf("%s prints the secret key: %s", name, out)
		}
		if !strings.Contains(out, cfg.Bucket) {
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
