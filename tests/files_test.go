package tests

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-dev/bulwark/tools/attack"
)

func TestFileAttacks(t *testing.T) { runIssue(t, "files", nil) }

// The default link lifetime (2m) is too long for the expiry attack to wait
// out; with the shortest the config allows, it sees the untouched link die.
func TestSignedURLExpiresAfterTTL(t *testing.T) {
	i := slices.IndexFunc(attack.ByIssue("files"), func(a attack.Attack) bool { return a.ID == "files/signed-url-expiry" })
	if i < 0 {
		t.Fatal("files/signed-url-expiry is not in the catalogue")
	}
	runAttacks(t, attack.ByIssue("files")[i:i+1], map[string]string{"DOWNLOAD_URL_TTL": "10s"})
}

// aliceOrder is alice's seeded order; it carries one seeded file.
const aliceOrder = "0de00000-0000-4000-8000-00000000a001"

// plantCanary writes a random text just outside the storage root (its
// parent and grandparent), where a path that escaped the root would land,
// and returns the text: it must never appear in a response.
func plantCanary(t *testing.T, storageDir string) string {
	t.Helper()
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	text := "bulwark-canary-" + hex.EncodeToString(b)
	parent := filepath.Dir(filepath.Clean(storageDir))
	for _, p := range []string{
		filepath.Join(parent, "canary.txt"),
		filepath.Join(parent, "passwd"),
		filepath.Join(filepath.Dir(parent), "canary.txt"),
	} {
		// O_EXCL: plant only where nothing is, and remove only what was planted.
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			continue
		}
		_, err = f.WriteString(text + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		t.Cleanup(func() { _ = os.Remove(p) })
		if err != nil {
			t.Fatalf("plant canary %s: %v", p, err)
		}
	}
	return text
}

// An upload that is too large, or whose client vanishes halfway, leaves
// neither a row nor an object, not even a temporary one.
func TestOversizeAndKilledUploadsLeaveNothing(t *testing.T) {
	srv := startServer(t, map[string]string{"UPLOAD_MAX_BYTES": "1048576"})
	ctx := t.Context()
	tok, err := srv.Target.Login(ctx, srv.Target.Alice)
	if err != nil {
		t.Fatal(err)
	}
	rowsBefore := fileIDs(t, srv, tok, aliceOrder)
	objectsBefore := storedObjects(t, srv.StorageDir)
	if len(objectsBefore) == 0 || len(rowsBefore) == 0 {
		t.Fatalf("control: seeded storage has %d objects, alice's order %d files", len(objectsBefore), len(rowsBefore))
	}

	t.Run("2 MiB over a 1 MiB cap is 413", func(t *testing.T) {
		for _, declared := range []bool{false, true} {
			head, tail, ctype := envelope("big.pdf", "application/pdf")
			body := io.MultiReader(strings.NewReader(head), newPDFStream(2<<20), strings.NewReader(tail))
			length := int64(-1) // chunked: only the streaming cap can stop it
			if declared {
				length = int64(len(head) + 2<<20 + len(tail))
			}
			status := postUpload(ctx, t, srv.URL, tok, aliceOrder, ctype, body, length)
			if status != http.StatusRequestEntityTooLarge {
				t.Errorf("declared length %v: status %d, want 413", declared, status)
			}
		}
	})

	t.Run("client killed mid-upload", func(t *testing.T) {
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", strings.TrimPrefix(srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = conn.Close() }()
		head, _, ctype := envelope("killed.pdf", "application/pdf")
		// Declared within the cap, so the server accepts it and starts
		// storing; only 256 KiB of it ever arrives.
		w := bufio.NewWriter(conn)
		fmt.Fprintf(w, "POST /api/v1/orders/%s/files HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s",
			aliceOrder, strings.TrimPrefix(srv.URL, "http://"), tok, ctype, 1<<20, head)
		if _, err := io.Copy(w, newPDFStream(256<<10)); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		// Control: the server really was writing the upload to disk.
		if !eventually(5*time.Second, func() bool { return len(tempObjects(t, srv.StorageDir)) > 0 }) {
			t.Fatal("control: no temporary object appeared while the upload streamed; the check below would prove nothing")
		}
		// Abruptly: a reset, not a polite close.
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = conn.Close()
		if !eventually(5*time.Second, func() bool { return len(tempObjects(t, srv.StorageDir)) == 0 }) {
			t.Errorf("tmp/ still holds %v after the client went away", tempObjects(t, srv.StorageDir))
		}
	})

	if got := storedObjects(t, srv.StorageDir); !slices.Equal(got, objectsBefore) {
		t.Errorf("objects under owners/: %v, want only the seeded %v", got, objectsBefore)
	}
	if got := fileIDs(t, srv, tok, aliceOrder); !slices.Equal(got, rowsBefore) {
		t.Errorf("alice's order lists %v, want %v", got, rowsBefore)
	}
}

// Uploads and downloads stream: a 256 MiB file passes through with the
// process's memory nearly flat (the design asks ≤ 32 MiB for 1 GiB).
func TestUploadAndDownloadMemoryStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 512 MiB through the server")
	}
	const size = 256 << 20
	const maxGrowth = 32 << 20
	srv := startServer(t, map[string]string{"UPLOAD_MAX_BYTES": strconv.Itoa(600 << 20)})
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	tok, err := srv.Target.Login(ctx, srv.Target.Alice)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{} // no client timeout: ctx bounds the test

	// The server runs in this process, so the heap measured here is the
	// server's plus this test's client, which streams too.
	runtime.GC()
	runtime.GC()
	base := inUse()
	stop := sampleMax(20 * time.Millisecond)

	// Upload: the multipart body is produced while it is sent.
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	sent := sha256.New()
	go func() {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="file"; filename="big.pdf"`)
		h.Set("Content-Type", "application/pdf")
		part, err := mw.CreatePart(h)
		if err == nil {
			_, err = io.Copy(part, io.TeeReader(newPDFStream(size), sent))
		}
		if err == nil {
			err = mw.Close()
		}
		_ = pw.CloseWithError(err)
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/api/v1/orders/"+aliceOrder+"/files", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+tok)
	started := time.Now()
	var file struct {
		ID        string `json:"id"`
		SizeBytes int64  `json:"size_bytes"`
		SHA256    string `json:"sha256"`
	}
	doJSON(t, client, req, http.StatusCreated, &file)
	_ = pr.Close()
	uploaded := time.Since(started)
	sum := hex.EncodeToString(sent.Sum(nil))
	if file.SizeBytes != size || file.SHA256 != sum {
		t.Fatalf("stored %d bytes, sha256 %s; sent %d, %s", file.SizeBytes, file.SHA256, size, sum)
	}

	// Download through the signed link, hashed as it arrives.
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/v1/files/"+file.ID+"/download-url", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	var link struct {
		URL string `json:"url"`
	}
	doJSON(t, client, req, http.StatusOK, &link)
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+link.URL, nil)
	started = time.Now()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got := sha256.New()
	n, err := io.Copy(got, resp.Body)
	_ = resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("download: status %d, %d bytes, %v", resp.StatusCode, n, err)
	}
	downloaded := time.Since(started)
	peak := stop()

	if n != size || hex.EncodeToString(got.Sum(nil)) != sum {
		t.Errorf("downloaded %d bytes, sha256 %x; uploaded %d, %s", n, got.Sum(nil), size, sum)
	}
	growth := int64(peak) - int64(base)
	t.Logf("256 MiB up in %v, down in %v; heap+stack in use: base %.1f MiB, peak %.1f MiB, growth %.1f MiB (limit %d MiB; includes this test's streaming client)",
		uploaded.Round(time.Millisecond), downloaded.Round(time.Millisecond), mib(base), mib(peak), float64(growth)/(1<<20), maxGrowth>>20)
	if growth > maxGrowth {
		t.Errorf("memory grew by %.1f MiB moving 256 MiB through the server, want ≤ %d MiB: something buffers the file", float64(growth)/(1<<20), maxGrowth>>20)
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// inUse is the memory the Go runtime holds for live and not yet collected
// objects and for goroutine stacks.
func inUse() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// sampleMax samples inUse every interval until the returned function is
// called, which returns the largest value seen.
func sampleMax(interval time.Duration) func() uint64 {
	done := make(chan struct{})
	result := make(chan uint64)
	go func() {
		peak := inUse()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				peak = max(peak, inUse())
			case <-done:
				result <- max(peak, inUse())
				return
			}
		}
	}()
	return func() uint64 {
		close(done)
		return <-result
	}
}

// pdfStream yields a PDF header and then n bytes in all from a cheap
// xorshift generator: incompressible-looking, deterministic, and never
// held in memory.
type pdfStream struct {
	left  int64
	state uint64
	head  string
}

func newPDFStream(n int64) io.Reader {
	return &pdfStream{left: n, state: 0x9e3779b97f4a7c15, head: "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"}
}

func (s *pdfStream) Read(p []byte) (int, error) {
	if s.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n := copy(p, s.head)
	s.head = s.head[n:]
	for ; n+8 <= len(p); n += 8 {
		s.state ^= s.state << 13
		s.state ^= s.state >> 7
		s.state ^= s.state << 17
		binary.LittleEndian.PutUint64(p[n:], s.state)
	}
	for ; n < len(p); n++ {
		p[n] = byte(n)
	}
	s.left -= int64(len(p))
	return len(p), nil
}

// envelope returns the multipart text before and after a file's bytes,
// and the request's Content-Type.
func envelope(filename, ctype string) (head, tail, formType string) {
	boundary := multipart.NewWriter(io.Discard).Boundary()
	head = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename + "\"\r\nContent-Type: " + ctype + "\r\n\r\n"
	tail = "\r\n--" + boundary + "--\r\n"
	return head, tail, "multipart/form-data; boundary=" + boundary
}

// postUpload streams body to the upload route and returns the status;
// length < 0 sends it chunked.
func postUpload(ctx context.Context, t *testing.T, base, tok, orderID, ctype string, body io.Reader, length int64) int {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/orders/"+orderID+"/files", body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = length
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func doJSON(t *testing.T, client *http.Client, req *http.Request, want int, out any) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", req.Method, req.URL.Path, resp.StatusCode, b, want)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s %s: decode %s: %v", req.Method, req.URL.Path, b, err)
	}
}

// fileIDs lists the ids of an order's files, as its owner sees them.
func fileIDs(t *testing.T, srv *server, tok, orderID string) []string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/api/v1/orders/"+orderID+"/files", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	var list struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	doJSON(t, http.DefaultClient, req, http.StatusOK, &list)
	ids := make([]string, 0, len(list.Items))
	for _, f := range list.Items {
		ids = append(ids, f.ID)
	}
	slices.Sort(ids)
	return ids
}

// storedObjects lists the regular files under owners/ in the storage dir.
func storedObjects(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	root := filepath.Join(dir, "owners")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	slices.Sort(out)
	return out
}

// tempObjects lists what is in the storage's tmp/ (uploads in progress).
func tempObjects(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "tmp"))
	if err != nil {
		t.Fatalf("read tmp/: %v", err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}
