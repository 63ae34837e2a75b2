package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/bulwark-dev/bulwark/internal/files/s3store/s3test"
	"github.com/bulwark-dev/bulwark/tools/attack"
)

// The file attacks against a server whose files live in S3: versitygw, a
// real S3 server on loopback (s3test), which checks the signature and the
// expiry of every presigned link itself. The catalogue attacks that speak
// only to the API run unchanged; those built around the local backend's
// links (a path on the API's own origin, checked by the service) are
// replaced by checks of the store's links, made against the store.
func TestFileAttacksOnS3(t *testing.T) {
	s3 := s3test.Start(t)

	t.Run("catalogue", func(t *testing.T) {
		for _, a := range attack.ByIssue("files") {
			why, known := replacedOnS3()[a.ID]
			if !known {
				t.Errorf("%s: new file attack; run it on S3 below, or say in replacedOnS3 what stands in for it", a.ID)
				continue
			}
			if why != "" {
				continue
			}
			t.Run(a.ID, func(t *testing.T) {
				srv := startServer(t, s3Env(t, s3))
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				res, err := a.Run(ctx, srv.Target)
				if err != nil {
					t.Fatalf("attack could not run: %v", err)
				}
				t.Logf("%s %s: %s", res.Verdict, a.ID, res.Evidence)
				if res.Verdict != attack.Blocked {
					t.Errorf("%s (%s, %s): %s\nevidence: %s", res.Verdict, a.OWASP, a.CWE, a.Story, res.Evidence)
				}
			})
		}
	})

	t.Run("presigned links", func(t *testing.T) {
		// The shortest lifetime the config allows, so the expiry is waited
		// out; every other check takes a fresh link and uses it at once.
		env := s3Env(t, s3)
		env["DOWNLOAD_URL_TTL"] = "10s"
		srv := startServer(t, env)
		testS3Links(t, s3, env["S3_BUCKET"], srv)
	})
}

// replacedOnS3 maps every file attack of the catalogue to "" when it runs
// on S3 unchanged, or to what stands in for it in testS3Links.
func replacedOnS3() map[string]string {
	const link = "asks for a link on the API's origin; "
	return map[string]string{
		"files/traversal-path":       "",
		"files/bola":                 "",
		"files/oversize-upload":      "",
		"files/unsigned-traversal":   "",
		"files/nested-traversal":     "",
		"files/traversal-filename":   link + "hostile filenames, downloaded from the store",
		"files/traversal-signed-key": link + "traversal in the presigned path, refused by the store",
		"files/signed-url-tampering": link + "tampered presigned links, refused by the store",
		"files/signed-url-expiry":    link + "the expired presigned link, refused by the store",
		"files/dangerous-upload":     link + "active content, served by the store as an attachment of a safe type",
	}
}

// s3Env points a server at a new bucket of s3, plainly over loopback.
func s3Env(t *testing.T, s3 *s3test.Server) map[string]string {
	t.Helper()
	return map[string]string{
		"FILE_STORAGE":  "s3",
		"S3_ENDPOINT":   s3.Endpoint,
		"S3_BUCKET":     s3.NewBucket(t),
		"S3_REGION":     s3test.Region,
		"S3_ACCESS_KEY": s3.AccessKey,
		"S3_SECRET_KEY": s3.SecretKey,
		"S3_USE_TLS":    "false", // loopback; production refuses it
	}
}

func testS3Links(t *testing.T, s3 *s3test.Server, bucket string, srv *server) {
	ctx := t.Context()
	alice, err := srv.Target.Login(ctx, srv.Target.Alice)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := srv.Target.Login(ctx, srv.Target.Bob)
	if err != nil {
		t.Fatal(err)
	}
	// Seeded orders (internal/seed). An order takes 10 files
	// (MAX_FILES_PER_ORDER), so the uploads below are spread over alice's two.
	const (
		aliceOtherOrder = "0de00000-0000-4000-8000-00000000a002"
		bobOrder        = "0de00000-0000-4000-8000-00000000b001"
	)

	// The owner uploads and downloads; the object is in the bucket, and
	// nothing in the local storage directory.
	const content = "%PDF-1.7\nalice's invoice\n%%EOF\n"
	mine := uploadFile(t, srv, alice, aliceOrder, "../../../../etc/passwd.pdf", "application/pdf", content)
	if !slices.ContainsFunc(bucketObjects(t, s3, bucket), func(k string) bool { return strings.HasSuffix(k, "/files/"+splitLink(t, mine.link).key) }) {
		t.Fatalf("control: %s is not in bucket %s: %v", mine.link, bucket, bucketObjects(t, s3, bucket))
	}
	if _, err := os.Stat(filepath.Join(srv.StorageDir, "owners")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the server storing in S3 has objects in its local storage directory %s (%v)", srv.StorageDir, err)
	}
	u, err := url.Parse(mine.link)
	if err != nil {
		t.Fatal(err)
	}
	if u.Host != s3.Endpoint {
		t.Fatalf("download link %s does not lead to the store at %s", mine.link, s3.Endpoint)
	}
	t.Run("owner downloads from the store", func(t *testing.T) {
		status, h, body := fetch(t, mine.link)
		if status != http.StatusOK || string(body) != content {
			t.Fatalf("GET %s: %d %q, want 200 and the uploaded bytes", mine.link, status, body)
		}
		cd := h.Get("Content-Disposition")
		if !strings.HasPrefix(cd, "attachment") || strings.Contains(cd, "/") || strings.Contains(cd, `\`) {
			t.Errorf("Content-Disposition %q: want an attachment under a name with no path", cd)
		}
		if ct := h.Get("Content-Type"); ct != "application/pdf" {
			t.Errorf("Content-Type %q, want application/pdf", ct)
		}
		// What the API says of the link is what the store enforces.
		q := u.Query()
		signed, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
		secs, err2 := strconv.Atoi(q.Get("X-Amz-Expires"))
		if err != nil || err2 != nil {
			t.Fatalf("not a SigV4 presigned link: %s", mine.link)
		}
		if end := signed.Add(time.Duration(secs) * time.Second); end.Sub(mine.expiresAt).Abs() > time.Second {
			t.Errorf("the store ends the link at %s, the API says %s", end, mine.expiresAt)
		}
	})

	t.Run("active content is refused or an attachment of a safe type", func(t *testing.T) {
		// As files/dangerous-upload, but the download is the store's: it
		// cannot add nosniff or a CSP sandbox (docs/06-file-access.md), so
		// the attachment and the type are what keep a browser from running it.
		const script = "<script>alert(document.domain)</script>"
		served := 0
		for _, up := range []struct{ name, ctype, content string }{
			{"invoice.html", "text/html", "<!DOCTYPE html><html><body>" + script + "</body></html>"},
			{"logo.svg", "image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">` + script + `</svg>`},
			{"report.pdf", "application/pdf", "<html><body>" + script + "</body></html>"},
			{"polyglot.pdf", "text/html", "%PDF-1.4\n<html><body>" + script + "</body></html>\n%%EOF\n"},
		} {
			status, f := tryUpload(t, srv, alice, aliceOrder, up.name, up.ctype, up.content)
			if status == http.StatusUnsupportedMediaType || status == http.StatusBadRequest {
				continue
			}
			if status != http.StatusCreated {
				t.Fatalf("upload %s: %d", up.name, status)
			}
			served++
			code, h, body := fetch(t, f.link)
			if code != http.StatusOK || string(body) != up.content {
				t.Fatalf("control: GET %s: %d %q", f.link, code, body)
			}
			cd, ct := h.Get("Content-Disposition"), strings.ToLower(h.Get("Content-Type"))
			if !strings.HasPrefix(cd, "attachment") || ct == "" || strings.Contains(ct, "html") || strings.Contains(ct, "svg") || strings.Contains(ct, "xml") {
				t.Errorf("%s served by the store as %q, %q: want an attachment of a type no browser runs", up.name, cd, ct)
			}
		}
		if served == 0 {
			t.Error("control: every upload was refused, so no download from the store was checked")
		}
		t.Logf("%d of 4 accepted, each downloaded from the store as an attachment of a safe type", served)
	})

	t.Run("another customer's file", func(t *testing.T) {
		// Bob cannot have a link made to alice's file...
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/v1/files/"+mine.id+"/download-url", nil)
		req.Header.Set("Authorization", "Bearer "+bob)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("bob's download-url for alice's file: %d, want 404", resp.StatusCode)
		}
		// ...nor reach it with a link of his own: the store refuses his
		// signature on her object's path.
		his := uploadFile(t, srv, bob, bobOrder, "bob.txt", "text/plain", "bob's\n")
		expectStore200(t, his.link)
		expectStoreRefusal(t, withPath(t, his.link, splitLink(t, mine.link).full), content, http.StatusForbidden)
	})

	t.Run("tampered links are refused by the store", func(t *testing.T) {
		other := uploadFile(t, srv, alice, aliceOtherOrder, "other.txt", "text/plain", "another of alice's files\n")
		fresh := uploadFile(t, srv, alice, aliceOtherOrder, "fresh.pdf", "application/pdf", content)
		// Control: the untouched link works, now, so each 403 below is
		// the tampering's doing and not the link's age.
		expectStore200(t, fresh.link)
		q := mustQuery(t, fresh.link)
		date, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
		if err != nil {
			t.Fatal(err)
		}
		p := splitLink(t, fresh.link)
		// The signing time moved by a minute, within the same day: the
		// credential's date must match it, or the store refuses the link
		// as malformed before it looks at the signature.
		moved := date.Add(time.Minute)
		if moved.YearDay() != date.YearDay() {
			moved = date.Add(-time.Minute)
		}
		forbidden := []int{http.StatusForbidden}
		// A path that climbs out of the object's directory is refused by
		// the store's router (400) or by the signature check (403).
		climbs := []int{http.StatusBadRequest, http.StatusForbidden}
		for _, tt := range []struct {
			name string
			url  string
			want []int
		}{
			{"signature flipped", withQuery(t, fresh.link, "X-Amz-Signature", flipHex(q.Get("X-Amz-Signature"))), forbidden},
			{"another file's signature", withQuery(t, fresh.link, "X-Amz-Signature", mustQuery(t, other.link).Get("X-Amz-Signature")), forbidden},
			{"another file's path", withPath(t, fresh.link, splitLink(t, other.link).full), forbidden},
			{"expiry raised to a week", withQuery(t, fresh.link, "X-Amz-Expires", "604800"), forbidden},
			{"signing time moved", withQuery(t, fresh.link, "X-Amz-Date", moved.Format("20060102T150405Z")), forbidden},
			{"served inline", withQuery(t, fresh.link, "response-content-disposition", "inline"), forbidden},
			{"served as HTML", withQuery(t, fresh.link, "response-content-type", "text/html"), forbidden},
			{"traversal back onto the same object", withPath(t, fresh.link, p.dir+"../files/"+p.key), forbidden},
			{"traversal out of the owner's directory", withPath(t, fresh.link, p.dir+"../../../../etc/passwd"), climbs},
			{"traversal to the bucket's root", withPath(t, fresh.link, p.dir+"../../../"), climbs},
			{"no signature at all", (&url.URL{Scheme: "http", Host: s3.Endpoint, Path: p.full}).String(), forbidden},
		} {
			t.Run(tt.name, func(t *testing.T) { expectStoreRefusal(t, tt.url, content, tt.want...) })
		}
		expectStore200(t, fresh.link)
	})

	t.Run("an expired link is refused by the store", func(t *testing.T) {
		f := uploadFile(t, srv, alice, aliceOtherOrder, "expiring.pdf", "application/pdf", content)
		expectStore200(t, f.link)
		// The store counts from X-Amz-Date, in whole seconds: a second's
		// margin past expires_at.
		select {
		case <-time.After(time.Until(f.expiresAt.Add(time.Second))):
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
		expectStoreRefusal(t, f.link, content, http.StatusForbidden)
	})
}

type s3File struct {
	id        string
	link      string // the presigned URL, on the store
	expiresAt time.Time
}

// uploadFile uploads as the token's owner and asks for a download link.
func uploadFile(t *testing.T, srv *server, tok, orderID, name, ctype, content string) s3File {
	t.Helper()
	status, f := tryUpload(t, srv, tok, orderID, name, ctype, content)
	if status != http.StatusCreated {
		t.Fatalf("upload %s: %d, want 201", name, status)
	}
	return f
}

// tryUpload uploads as the token's owner and, if the upload is accepted,
// asks for a download link.
func tryUpload(t *testing.T, srv *server, tok, orderID, name, ctype, content string) (int, s3File) {
	t.Helper()
	head, tail, formType := envelope(name, ctype)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/api/v1/orders/"+orderID+"/files", strings.NewReader(head+content+tail))
	req.Header.Set("Content-Type", formType)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("upload %s: %v", name, err)
	}
	var f struct {
		ID string `json:"id"`
	}
	err = json.NewDecoder(resp.Body).Decode(&f)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return resp.StatusCode, s3File{}
	}
	if err != nil {
		t.Fatalf("upload %s: decode: %v", name, err)
	}
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/api/v1/files/"+f.ID+"/download-url", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	var l struct {
		URL       string    `json:"url"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	doJSON(t, http.DefaultClient, req, http.StatusOK, &l)
	return http.StatusCreated, s3File{id: f.ID, link: l.URL, expiresAt: l.ExpiresAt}
}

// fetch GETs rawURL with no credentials, as a browser handed the link does.
func fetch(t *testing.T, rawURL string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, resp.Header, body
}

func expectStore200(t *testing.T, rawURL string) {
	t.Helper()
	if status, _, body := fetch(t, rawURL); status != http.StatusOK {
		t.Fatalf("control: the untouched link %s: %d %s", rawURL, status, body)
	}
}

// expectStoreRefusal requires the store's own refusal, with one of the
// statuses in want, an S3 error document naming the reason, and none of
// the object's bytes.
func expectStoreRefusal(t *testing.T, rawURL, content string, want ...int) {
	t.Helper()
	status, h, body := fetch(t, rawURL)
	var doc struct{ Code, Message string }
	if !slices.Contains(want, status) {
		t.Errorf("GET %s: %d, want %v from the store: %s", rawURL, status, want, body)
		return
	}
	if h.Get("Server") != "VERSITYGW" || xml.Unmarshal(body, &doc) != nil || doc.Code == "" {
		t.Errorf("GET %s: the %d is not the store's (Server %q): %s", rawURL, status, h.Get("Server"), body)
	}
	if bytes.Contains(body, []byte(content)) {
		t.Errorf("GET %s: the refusal holds the file: %s", rawURL, body)
	}
	t.Logf("the store: %d %s %q", status, doc.Code, doc.Message)
}

type linkPath struct{ full, dir, key string }

// splitLink splits a link's path into /bucket/owners/<owner>/files/ and the key's last segment.
func splitLink(t *testing.T, rawURL string) linkPath {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndex(u.Path, "/")
	return linkPath{full: u.Path, dir: u.Path[:i+1], key: u.Path[i+1:]}
}

func mustQuery(t *testing.T, rawURL string) url.Values {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

func withQuery(t *testing.T, rawURL, name, value string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(name, value)
	u.RawQuery = q.Encode()
	return u.String()
}

func withPath(t *testing.T, rawURL, p string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path, u.RawPath = p, ""
	return u.String()
}

// flipHex changes the first hex digit of a signature.
func flipHex(sig string) string {
	if sig == "" {
		return "0"
	}
	c := byte('0')
	if sig[0] == '0' {
		c = '1'
	}
	return string(c) + sig[1:]
}

// bucketObjects lists the keys in bucket, behind the service's back.
func bucketObjects(t *testing.T, s3 *s3test.Server, bucket string) []string {
	t.Helper()
	var keys []string
	for obj := range s3.Client(t).ListObjects(t.Context(), bucket, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			t.Fatalf("list %s: %v", bucket, obj.Err)
		}
		keys = append(keys, obj.Key)
	}
	return keys
}
