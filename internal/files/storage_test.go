package files_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	mathrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/bulwark-dev/bulwark/internal/config"
	"github.com/bulwark-dev/bulwark/internal/files"
)

const (
	testBucket    = "bulwark-test"
	testAccessKey = "test-access-key"
	testSecretKey = "test-secret-key-never-printed"
	testRegion    = "us-east-1"
	downloadPath  = "/api/v1/downloads"
)

// backend is one Storage under test, with what the contract needs to look
// behind its back.
type backend struct {
	store files.Storage
	// objects lists every stored object, whatever the key.
	objects func(t *testing.T) []string
	// leftovers lists what an unfinished Put could leave behind: files in
	// the temp dir (Local), incomplete multipart uploads (S3).
	leftovers func(t *testing.T) []string
	// checkDownloadURL checks that url grants a download of key, whose
	// content is want, as an attachment named filename of contentType.
	checkDownloadURL func(t *testing.T, key, rawURL string, want []byte, filename, contentType string, ttl time.Duration)
}

// The same contract runs against every backend.
var backends = []struct {
	name string
	new  func(t *testing.T) backend
}{
	{"local", newLocalBackend},
	{"s3", newS3Backend},
}

var contract = []struct {
	name string
	run  func(t *testing.T, b backend)
}{
	{"put then open returns the bytes", testRoundTrip},
	{"malformed keys are refused and nothing is written", testMalformedKeys},
	{"open of a missing key is ErrObjectNotFound", testOpenMissing},
	{"delete of a missing key is not an error", testDeleteMissing},
	{"delete then open is ErrObjectNotFound", testDeleteThenOpen},
	{"a reader failing halfway leaves nothing", testFailingReader},
	{"a cancelled context stops the put and leaves nothing", testCancelledPut},
	{"download URL grants the object as an attachment", testDownloadURL},
}

func TestStorageContract(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			for _, c := range contract {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.run(t, be.new(t))
				})
			}
		})
	}
}

func testRoundTrip(t *testing.T, b backend) {
	// 16 MiB is exactly one S3 part; 20 MiB takes a second one.
	sizes := []int64{0, 1, 64<<10 + 3, 16 << 20, 20 << 20}
	for _, size := range sizes {
		t.Run(strconv.FormatInt(size, 10)+" bytes", func(t *testing.T) {
			ctx := t.Context()
			key := newKey()
			// Streamed from a generator and hashed on the way: the backend
			// sees a stream of unknown length, as from a request body.
			src := sha256.New()
			n, err := b.store.Put(ctx, key, io.TeeReader(generator(size), src))
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			if n != size {
				t.Errorf("Put returned %d bytes written, want %d", n, size)
			}
			rc, err := b.store.Open(ctx, key)
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

func testMalformedKeys(t *testing.T, b backend) {
	valid := newKey()
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
		if _, err := b.store.Put(t.Context(), key, r); err == nil {
			t.Errorf("Put(%q) succeeded, want it refused", key)
		}
		if r.n != 0 {
			t.Errorf("Put(%q) read %d bytes of the body before refusing", key, r.n)
		}
	}
	if got := b.objects(t); len(got) != 0 {
		t.Errorf("objects stored after refused puts: %q", got)
	}
	if got := b.leftovers(t); len(got) != 0 {
		t.Errorf("leftovers after refused puts: %q", got)
	}
}

func testOpenMissing(t *testing.T, b backend) {
	rc, err := b.store.Open(t.Context(), newKey())
	if !errors.Is(err, files.ErrObjectNotFound) {
		if rc != nil {
			_ = rc.Close()
		}
		t.Fatalf("Open of a missing key: %v, want ErrObjectNotFound", err)
	}
}

func testDeleteMissing(t *testing.T, b backend) {
	if err := b.store.Delete(t.Context(), newKey()); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
}

func testDeleteThenOpen(t *testing.T, b backend) {
	ctx := t.Context()
	key := put(t, b.store, newKey(), []byte("short-lived"))
	if err := b.store.Delete(ctx, key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := b.store.Open(ctx, key); !errors.Is(err, files.ErrObjectNotFound) {
		t.Fatalf("Open after Delete: %v, want ErrObjectNotFound", err)
	}
	if got := b.objects(t); len(got) != 0 {
		t.Errorf("objects left after Delete: %q", got)
	}
}

func testFailingReader(t *testing.T, b backend) {
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
			key := newKey()
			r := io.MultiReader(generator(tt.after), errReader{tt.err})
			n, err := b.store.Put(t.Context(), key, r)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Put returned (%d, %v), want the reader's error %v", n, err, tt.err)
			}
			assertGone(t, b, key)
		})
	}
}

func testCancelledPut(t *testing.T, b backend) {
	t.Run("cancelled before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		key := newKey()
		if _, err := b.store.Put(ctx, key, generator(1<<20)); !errors.Is(err, context.Canceled) {
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
			key := newKey()
			r := io.MultiReader(generator(after), cancelReader{cancel}, generator(64<<20))
			if _, err := b.store.Put(ctx, key, r); !errors.Is(err, context.Canceled) {
				t.Fatalf("Put cancelled midway: %v, want context.Canceled", err)
			}
			assertGone(t, b, key)
		})
	}
}

func testDownloadURL(t *testing.T, b backend) {
	content := []byte("%PDF-1.7 pretend")
	key := put(t, b.store, newKey(), content)
	const (
		filename    = `Rapport "final"; été.pdf`
		contentType = "application/pdf"
		ttl         = 5 * time.Minute
	)
	u, err := b.store.DownloadURL(t.Context(), key, filename, contentType, ttl)
	if err != nil {
		t.Fatalf("DownloadURL: %v", err)
	}
	b.checkDownloadURL(t, key, u, content, filename, contentType, ttl)
}

// The local backend.

func newLocalBackend(t *testing.T) backend {
	t.Helper()
	dir := t.TempDir()
	signer := newSigner(t)
	store, err := files.NewLocal(dir, signer, downloadPath)
	if err != nil {
		t.Fatalf("NewLocal: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return backend{
		store: store,
		objects: func(t *testing.T) []string {
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
		leftovers: func(t *testing.T) []string {
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
		checkDownloadURL: func(t *testing.T, key, rawURL string, _ []byte, _, _ string, ttl time.Duration) {
			t.Helper()
			u, err := url.Parse(rawURL)
			if err != nil {
				t.Fatalf("parse %q: %v", rawURL, err)
			}
			if u.Path != downloadPath || u.Host != "" {
				t.Errorf("URL %q: want a path to %s on the API's own origin", rawURL, downloadPath)
			}
			got, err := signer.Verify("GET", u.Query())
			if err != nil || got != key {
				t.Fatalf("signer.Verify = (%q, %v), want (%q, nil)", got, err, key)
			}
			exp, _ := strconv.ParseInt(u.Query().Get("expires"), 10, 64)
			if d := time.Until(time.Unix(exp, 0)); d > ttl || d < ttl-time.Minute {
				t.Errorf("link expires in %v, want about %v", d, ttl)
			}
			// The same link does not grant another method.
			if _, err := signer.Verify("DELETE", u.Query()); err == nil {
				t.Error("a GET link verified for DELETE")
			}
		},
	}
}

func newSigner(t *testing.T) *files.Signer {
	t.Helper()
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	signer, err := files.NewSigner([]config.SigningKey{{ID: "t", Secret: secret}})
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
				store, err := files.NewLocal(dir, newSigner(t), downloadPath)
				if err != nil {
					t.Fatalf("NewLocal: %v", err)
				}
				defer store.Close()
				key := newKey()
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
		store, err := files.NewLocal(dir, newSigner(t), downloadPath)
		if err != nil {
			t.Fatalf("NewLocal: %v", err)
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

// The S3 backend, against gofakes3: an S3 server in memory, speaking the
// S3 HTTP protocol on loopback, so the real minio-go client code runs.

func newS3Backend(t *testing.T) backend {
	t.Helper()
	endpoint := startFakeS3(t)
	admin := adminClient(t, endpoint)
	// The tests create the bucket; NewS3 only checks that it exists.
	if err := admin.MakeBucket(t.Context(), testBucket, minio.MakeBucketOptions{Region: testRegion}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	store, err := files.NewS3(t.Context(), s3Config(endpoint))
	if err != nil {
		t.Fatalf("NewS3: %v", err)
	}
	return backend{
		store: store,
		objects: func(t *testing.T) []string {
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
		leftovers: func(t *testing.T) []string { return incompleteUploads(t, admin) },
		checkDownloadURL: func(t *testing.T, _, rawURL string, want []byte, filename, contentType string, ttl time.Duration) {
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

func s3Config(endpoint string) files.S3Config {
	return files.S3Config{
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
	if _, err := core.NewMultipartUpload(t.Context(), testBucket, newKey(), minio.PutObjectOptions{}); err != nil {
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
		_, err := files.NewS3(t.Context(), s3Config(endpoint))
		if err == nil {
			t.Fatal("NewS3 accepted a bucket that does not exist")
		}
		if !strings.Contains(err.Error(), testBucket) {
			t.Errorf("error %q does not name the bucket", err)
		}
		if strings.Contains(err.Error(), testSecretKey) {
			t.Errorf("error %q contains the secret key", err)
		}
		if ok, err := admin.BucketExists(t.Context(), testBucket); err != nil || ok {
			t.Errorf("BucketExists after NewS3 = (%t, %v): NewS3 must not create buckets", ok, err)
		}
	})

	t.Run("unreachable store is an error without the secret", func(t *testing.T) {
		// minio-go retries a refused connection; the deadline ends that.
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		cfg := s3Config(closedPort(t))
		_, err := files.NewS3(ctx, cfg)
		if err == nil {
			t.Fatal("NewS3 succeeded against a closed port")
		}
		if strings.Contains(err.Error(), testSecretKey) {
			t.Errorf("error %q contains the secret key", err)
		}
	})

	t.Run("missing credentials", func(t *testing.T) {
		cfg := s3Config(endpoint)
		cfg.SecretKey = ""
		if _, err := files.NewS3(t.Context(), cfg); err == nil {
			t.Error("NewS3 accepted an empty secret key")
		}
	})
}

func TestS3ConfigHidesSecret(t *testing.T) {
	cfg := s3Config("127.0.0.1:9000")
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

// Helpers.

func newKey() string { return files.NewObjectKey(uuid.New()) }

func put(t *testing.T, s files.Storage, key string, content []byte) string {
	t.Helper()
	if _, err := s.Put(t.Context(), key, bytes.NewReader(content)); err != nil {
		t.Fatalf("Put: %v", err)
	}
	return key
}

// assertGone checks that a failed Put left neither the object nor any
// trace of the upload.
func assertGone(t *testing.T, b backend, key string) {
	t.Helper()
	if rc, err := b.store.Open(t.Context(), key); !errors.Is(err, files.ErrObjectNotFound) {
		if rc != nil {
			_ = rc.Close()
		}
		t.Errorf("Open after the failed Put: %v, want ErrObjectNotFound", err)
	}
	if got := b.objects(t); len(got) != 0 {
		t.Errorf("objects after the failed Put: %q", got)
	}
	if got := b.leftovers(t); len(got) != 0 {
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

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.Listener.Addr().String()
	srv.Close()
	return addr
}
