// Package s3test starts a throwaway S3 server for a test: versitygw, an
// S3-compatible gateway, with its POSIX backend on a temporary directory.
// It is a real server, not a fake: it checks SigV4 signatures, refuses an
// expired presigned link, keeps multipart uploads and answers with S3's own
// error codes, so what the S3 backend relies on a store to enforce is
// proven against one (docs/06-file-access.md).
//
// The server listens on 127.0.0.1 with root keys made for the test alone,
// and is killed when the test ends.
package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/bulwark-dev/bulwark/internal/proctest"
)

// binary is the server's executable: `make tools` installs it into the
// repository's bin/ at the version the Makefile pins (VERSITYGW_VERSION).
const binary = "versitygw"

// Region is the region the server answers for.
const Region = "us-east-1"

// readyTimeout bounds the wait for a starting server: it answers within
// a fraction of a second, so this only stops a wedged one from hanging the
// test.
const readyTimeout = 15 * time.Second

// Server is a running versitygw owned by one test.
type Server struct {
	Endpoint  string // host:port on 127.0.0.1, no scheme
	AccessKey string // the root user's keys, made for this server alone
	SecretKey string
	// Root is the POSIX backend's directory: a bucket is a directory in
	// it, an object a file under that.
	Root string
}

// Start runs versitygw on a free port of 127.0.0.1 and returns once it
// answers a signed request. It is killed when t ends.
//
// Without the binary t is skipped, except when CI is set, where it fails:
// a CI run that silently skips its S3 tests proves nothing.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := findBinary()
	if err != nil {
		msg := "versitygw not found (" + err.Error() + "): run `make tools`, which installs it into bin/"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	s := &Server{
		AccessKey: randomHex(t, 10),
		SecretKey: randomHex(t, 20),
		Root:      filepath.Join(dir, "root"),
	}
	// Object metadata (content type, ETag) goes to a directory
	// of its own rather than to extended attributes, which a temporary
	// file system (tmpfs) may not support.
	meta := filepath.Join(dir, "meta")
	for _, d := range []string{s.Root, meta} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatalf("s3test: %v", err)
		}
	}
	logPath := filepath.Join(dir, "versitygw.log")

	// Between freePort closing its listener and the server binding, anything
	// else on the machine may take the port; a fresh one is then tried.
	const attempts = 3
	for attempt := 1; ; attempt++ {
		s.Endpoint = net.JoinHostPort("127.0.0.1", strconv.Itoa(proctest.FreePort(t)))
		err := s.start(t, bin, meta, logPath)
		if err == nil {
			return s
		}
		if attempt == attempts {
			t.Fatalf("s3test: %v", err)
		}
	}
}

// start runs the server on s.Endpoint and waits until it answers. Its
// kill is registered with t.Cleanup after t.TempDir, so it runs first: the
// directories are removed only once the server is gone.
func (s *Server) start(t testing.TB, bin, meta, logPath string) error {
	t.Helper()
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600) //nolint:gosec // G304: our own temporary directory.
	if err != nil {
		return fmt.Errorf("create server log: %w", err)
	}
	// The context is the server's lifetime: cancelling it kills it.
	ctx, kill := context.WithCancel(context.Background())
	//nolint:gosec // G204: the pinned binary and arguments of our own choosing, never request input.
	cmd := exec.CommandContext(ctx, bin,
		"--port", s.Endpoint,
		"--region", Region,
		"--quiet", // no line per request
		"posix", "--sidecar", meta, s.Root,
	)
	// The keys go in the environment, not on the command line, where any
	// user of the machine could read them (ps). Nothing else is inherited:
	// a VGW_* variable of the developer's would change the server's
	// behaviour.
	cmd.Env = []string{"ROOT_ACCESS_KEY=" + s.AccessKey, "ROOT_SECRET_KEY=" + s.SecretKey}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		kill()
		_ = log.Close()
		return fmt.Errorf("run %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() {
		// A killed server exits with an error by design; the log says the rest.
		_ = cmd.Wait()
		_ = log.Close()
		close(exited)
	}()
	stop := func() {
		kill()
		<-exited
	}
	if err := s.waitReady(exited); err != nil {
		stop()
		return fmt.Errorf("%w; %s ends with:\n%s", err, logPath, proctest.LogTail(logPath))
	}
	t.Cleanup(stop)
	return nil
}

// waitReady polls with a signed ListBuckets until the server answers, exits
// or runs out of time. Only a server that knows this test's random keys
// answers it, so a server of another test that took the port first does not
// pass for ours.
func (s *Server) waitReady(exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	client, err := s.newClient()
	if err != nil {
		return err
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, time.Second)
		_, err := client.ListBuckets(attempt)
		cancelAttempt()
		if err == nil {
			return nil
		}
		var resp minio.ErrorResponse
		if errors.As(err, &resp) && resp.StatusCode == http.StatusForbidden {
			return fmt.Errorf("%s is served by another S3 server (%s)", s.Endpoint, resp.Code)
		}
		select {
		case <-exited:
			return fmt.Errorf("versitygw on %s exited during start-up", s.Endpoint)
		case <-ctx.Done():
			return fmt.Errorf("versitygw on %s did not answer: %w (last attempt: %w)", s.Endpoint, ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// Client is a client with the root user's keys, for what the service under
// test never does: creating buckets, looking at the store behind its back.
func (s *Server) Client(t testing.TB) *minio.Client {
	t.Helper()
	c, err := s.newClient()
	if err != nil {
		t.Fatalf("s3test: %v", err)
	}
	return c
}

func (s *Server) newClient() (*minio.Client, error) {
	c, err := minio.New(s.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Region: Region,
		// One attempt per call: the caller's loop, if any, is the retry.
		MaxRetries: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("S3 client for %s: %w", s.Endpoint, err)
	}
	return c, nil
}

// NewBucket creates an empty bucket of a fresh name and returns the name.
func (s *Server) NewBucket(t testing.TB) string {
	t.Helper()
	name := "bulwark-" + randomHex(t, 6)
	if err := s.Client(t).MakeBucket(t.Context(), name, minio.MakeBucketOptions{Region: Region}); err != nil {
		t.Fatalf("s3test: create bucket %s: %v", name, err)
	}
	return name
}

// findBinary looks in the repository's bin/, where `make tools` installs
// the pinned version, then on PATH.
func findBinary() (string, error) {
	if root, err := moduleRoot(); err == nil {
		p := filepath.Join(root, "bin", binary)
		if info, err := os.Stat(p); err == nil && !info.IsDir() {
			return p, nil
		}
	}
	p, err := exec.LookPath(binary)
	if err != nil {
		return "", fmt.Errorf("not in bin/ nor on PATH: %w", err)
	}
	return p, nil
}

// moduleRoot is the nearest directory at or above the working directory (a
// test runs in its package's) that holds a go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("s3test: %v", err)
	}
	return hex.EncodeToString(b)
}
