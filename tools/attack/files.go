package attack

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Insecure file access (docs/06-file-access.md). Every input that could
// name a place on disk (the uploaded filename, each path segment, the key
// in a signed link) is attacked with "../" in every encoding; signed links
// are tampered with, swapped and replayed; another customer's files are
// read, linked, deleted and written to; files a browser would run are
// uploaded; and an oversize body is streamed at the upload route.
func fileAttacks() []Attack {
	return []Attack{
		{
			ID: "files/traversal-filename", Issue: "files", OWASP: "API8:2023", CWE: "CWE-22",
			Story: "Upload with filenames such as ../../../../etc/passwd, C:\\boot.ini and encoded dots; the file must be refused or stored under a harmless name and served back byte for byte.",
			Run:   traversalFilename,
		},
		{
			ID: "files/traversal-path", Issue: "files", OWASP: "API8:2023", CWE: "CWE-22",
			Story: "Put ../ in every path segment of the file routes, plain, encoded, double-encoded, with backslashes and NUL bytes.",
			Run:   traversalPath,
		},
		{
			ID: "files/traversal-signed-key", Issue: "files", OWASP: "API8:2023", CWE: "CWE-22",
			Story: "Replace the key of a real download link with ../ paths and absolute paths, keeping its signature or inventing one.",
			Run:   traversalSignedKey,
		},
		{
			ID: "files/signed-url-tampering", Issue: "files", OWASP: "API1:2023", CWE: "CWE-347",
			Story: "Change a download link's signature, key, expiry or key id, drop a parameter, or reuse one file's signature for another.",
			Run:   signedURLTampering,
		},
		{
			ID: "files/signed-url-expiry", Issue: "files", OWASP: "API1:2023", CWE: "CWE-613",
			Story: "Check that a download link is short-lived, and replay it with its expiry moved into the past.",
			Run:   signedURLExpiry,
		},
		{
			ID: "files/bola", Issue: "files", OWASP: "API1:2023", CWE: "CWE-639",
			Story: "Bob lists, reads, links, deletes and uploads to alice's files and order.",
			Run:   filesBOLA,
		},
		{
			ID: "files/dangerous-upload", Issue: "files", OWASP: "API8:2023", CWE: "CWE-434",
			Story: "Upload HTML, SVG with script, HTML named .pdf and a PDF/HTML polyglot, then open them as a browser would.",
			Run:   dangerousUpload,
		},
		{
			ID: "files/oversize-upload", Issue: "files", OWASP: "API4:2023", CWE: "CWE-400",
			Story: "Stream 11 MiB at the upload route, chunked and with a declared length; it must be cut off with 413 and leave no file.",
			Run:   oversizeUpload,
		},
	}
}

// hostFileMarker starts /etc/passwd on every Unix host: seeing it in a
// response means a path reached outside the storage root.
const hostFileMarker = "root:x:0:"

// leaked reports which planted secret, if any, a response body contains.
func (t *Target) leaked(body []byte) string {
	for _, marker := range []string{t.Canary, hostFileMarker} {
		if marker != "" && strings.Contains(string(body), marker) {
			return marker
		}
	}
	return ""
}

// Seeded demo orders (internal/seed); each carries one text file. The
// attacks ask Target.holdings for the orders to use: these for the demo
// accounts, orders of their own for an isolated run's customers.
const (
	seededAliceOrder      = "0de00000-0000-4000-8000-00000000a001"
	seededAliceOtherOrder = "0de00000-0000-4000-8000-00000000a002"
	seededBobOrder        = "0de00000-0000-4000-8000-00000000b001"
	missingID             = "00000000-0000-4000-8000-000000000000"
)

type storedFile struct {
	ID          string `json:"id"`
	OrderID     string `json:"order_id"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	SizeBytes   int64  `json:"size_bytes"`
	SHA256      string `json:"sha256"`
}

type signedLink struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// listFiles lists an order's files; the list is decoded only on a 200.
func (t *Target) listFiles(ctx context.Context, token, orderID string) ([]storedFile, *exchange, error) {
	x, err := t.send(ctx, request{method: http.MethodGet, path: "/api/v1/orders/" + orderID + "/files", token: token})
	if err != nil {
		return nil, nil, err
	}
	var list struct {
		Items []storedFile `json:"items"`
	}
	if x.status == http.StatusOK {
		if err := json.Unmarshal(x.body, &list); err != nil {
			return nil, x, fmt.Errorf("decode file list: %w", err)
		}
	}
	return list.Items, x, nil
}

// firstFile returns the first file of the token owner's order (a control:
// the seeded orders each have one).
func (t *Target) firstFile(ctx context.Context, token, orderID string) (storedFile, error) {
	list, x, err := t.listFiles(ctx, token, orderID)
	if err != nil {
		return storedFile{}, err
	}
	if x.status != http.StatusOK || len(list) == 0 {
		return storedFile{}, fmt.Errorf("control: no file on order %s: %s", orderID, x)
	}
	return list[0], nil
}

// fileDisposition is the part header of an upload, with the filename put
// in verbatim: no escaping, so the hostile name reaches the server as is.
func fileDisposition(filename string) string {
	return `form-data; name="file"; filename="` + filename + `"`
}

// multipartFile builds a one-part multipart body from a raw
// Content-Disposition value.
func multipartFile(disposition, ctype, content string) (body, formType string, err error) {
	var b strings.Builder
	w := multipart.NewWriter(&b)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", disposition)
	if ctype != "" {
		h.Set("Content-Type", ctype)
	}
	p, err := w.CreatePart(h)
	if err != nil {
		return "", "", fmt.Errorf("multipart: %w", err)
	}
	if _, err := io.WriteString(p, content); err != nil {
		return "", "", fmt.Errorf("multipart: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", "", fmt.Errorf("multipart: %w", err)
	}
	return b.String(), w.FormDataContentType(), nil
}

// upload posts one file to an order; the stored file is decoded on a 201.
func (t *Target) upload(ctx context.Context, token, orderID, disposition, ctype, content string) (*exchange, storedFile, error) {
	body, formType, err := multipartFile(disposition, ctype, content)
	if err != nil {
		return nil, storedFile{}, err
	}
	x, err := t.send(ctx, request{method: http.MethodPost, path: "/api/v1/orders/" + orderID + "/files", body: body, ctype: formType, token: token})
	if err != nil {
		return nil, storedFile{}, err
	}
	x.reqBody = "[multipart " + strconv.Quote(disposition) + "]"
	var f storedFile
	if x.status == http.StatusCreated {
		if err := json.Unmarshal(x.body, &f); err != nil || f.ID == "" {
			return x, f, fmt.Errorf("no file in %s", x)
		}
	}
	return x, f, nil
}

// aliceLink is the usual start of a link attack: a download link for the
// first file of alice's first order, and the answer that carried it.
func (t *Target) aliceLink(ctx context.Context) (storedFile, signedLink, *exchange, error) {
	h, err := t.holdings(ctx)
	if err != nil {
		return storedFile{}, signedLink{}, nil, err
	}
	tok, err := t.login(ctx, t.Alice)
	if err != nil {
		return storedFile{}, signedLink{}, nil, err
	}
	f, err := t.firstFile(ctx, tok.AccessToken, h.alice)
	if err != nil {
		return storedFile{}, signedLink{}, nil, err
	}
	l, x, err := t.link(ctx, tok.AccessToken, f.ID)
	return f, l, x, err
}

// link asks for a download link for the caller's own file.
func (t *Target) link(ctx context.Context, token, fileID string) (signedLink, *exchange, error) {
	x, err := t.send(ctx, request{method: http.MethodGet, path: "/api/v1/files/" + fileID + "/download-url", token: token})
	if err != nil {
		return signedLink{}, nil, err
	}
	var l signedLink
	if x.status != http.StatusOK {
		return l, x, fmt.Errorf("control: owner's download-url failed: %s", x)
	}
	if err := json.Unmarshal(x.body, &l); err != nil || !strings.HasPrefix(l.URL, "/") {
		return l, x, fmt.Errorf("control: no relative url in %s", x)
	}
	return l, x, nil
}

// linkParts splits a download link into its path and query.
func linkParts(l signedLink) (string, url.Values, error) {
	u, err := url.Parse(l.URL)
	if err != nil {
		return "", nil, fmt.Errorf("parse link %q: %w", l.URL, err)
	}
	q := u.Query()
	for _, p := range []string{"key", "expires", "kid", "signature"} {
		if q.Get(p) == "" {
			return "", nil, fmt.Errorf("control: link %q has no %s", l.URL, p)
		}
	}
	return u.Path, q, nil
}

// rawQuery joins name=value pairs exactly as given: values are not
// re-encoded, so each variant controls its own encoding on the wire.
func rawQuery(pairs ...string) string {
	var parts []string
	for i := 0; i+1 < len(pairs); i += 2 {
		parts = append(parts, pairs[i]+"="+pairs[i+1])
	}
	return strings.Join(parts, "&")
}

// signedQuery is the query of a link with its four values, each
// query-escaped.
func signedQuery(key, expires, kid, sig string) string {
	return rawQuery("expires", url.QueryEscape(expires), "key", url.QueryEscape(key), "kid", url.QueryEscape(kid), "signature", url.QueryEscape(sig))
}

// sendRaw sends requestURI byte for byte as the request target: no URL
// parsing, cleaning or re-encoding on the way, so "..\" and malformed
// escapes reach the server as written.
func (t *Target) sendRaw(ctx context.Context, method, requestURI, token string) (*exchange, error) {
	return t.paced(ctx, method+" "+requestURI, false, func() (*exchange, error) {
		req, err := http.NewRequestWithContext(ctx, method, t.BaseURL+"/", nil)
		if err != nil {
			return nil, fmt.Errorf("build request: %w", err)
		}
		req.URL.Opaque = requestURI
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return t.do(req, method, requestURI, "")
	})
}

// sendStream sends a body from a reader, never held whole in memory.
// length < 0 sends it chunked (no declared size).
func (t *Target) sendStream(ctx context.Context, method, path, token, ctype string, body io.Reader, length int64, label string) (*exchange, error) {
	req, err := http.NewRequestWithContext(ctx, method, t.BaseURL+path, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.ContentLength = length
	req.Header.Set("Content-Type", ctype)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return t.do(req, method, path, label)
}

func (t *Target) do(req *http.Request, method, path, label string) (*exchange, error) {
	start := time.Now()
	resp, err := t.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", method, path, err)
	}
	return &exchange{method: method, path: path, reqBody: label, status: resp.StatusCode, header: resp.Header, body: b, elapsed: time.Since(start)}, nil
}

// textReader yields n bytes of printable text (typed text/plain by any
// sniffer) without holding them: a body of any size costs one buffer.
type textReader struct{ left int64 }

func (r *textReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	for i := range p {
		if i%64 == 63 {
			p[i] = '\n'
		} else {
			p[i] = 'a' + byte(i%26)
		}
	}
	r.left -= int64(len(p))
	return len(p), nil
}

func nonce() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func randomSignature() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// statusCounts summarises many answers for the evidence: "404×40 400×8".
func statusCounts(counts map[int]int) string {
	var parts []string
	for _, s := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%d×%d", s, counts[s]))
	}
	return strings.Join(parts, " ")
}

func isJSON(x *exchange) bool {
	ct := x.header.Get("Content-Type")
	return strings.HasPrefix(ct, "application/json") || strings.HasPrefix(ct, "application/problem+json")
}

// unsafeName says what is wrong with a stored filename, or "".
func unsafeName(name string) string {
	switch {
	case name == "":
		return "empty"
	case strings.ContainsAny(name, `/\`):
		return "contains a path separator"
	case strings.ContainsRune(name, 0):
		return "contains NUL"
	case strings.HasPrefix(name, "."):
		return "starts with a dot"
	}
	return ""
}

func traversalFilename(ctx context.Context, t *Target) (Result, error) {
	tok, err := t.login(ctx, t.Alice)
	if err != nil {
		return Result{}, err
	}
	// A fresh order: the per-order file cap cannot be what refuses a probe.
	o, err := t.createOrder(ctx, tok.AccessToken, "filename traversal probe")
	if err != nil {
		return Result{}, err
	}
	names := traversalFilenames()
	dispositions := make([]string, 0, len(names)+2)
	labels := make([]string, 0, len(names)+2)
	for _, n := range names {
		dispositions = append(dispositions, fileDisposition(n))
		labels = append(labels, strconv.Quote(n))
	}
	dispositions = append(dispositions,
		// RFC 2231: the server's MIME parser decodes the percent-escapes itself.
		`form-data; name="file"; filename*=UTF-8''..%2F..%2F..%2F..%2Fetc%2Fpasswd`,
		`form-data; name="file"; filename=../../etc/passwd`,
	)
	labels = append(labels, "filename*=UTF-8''..%2F..%2F..%2F..%2Fetc%2Fpasswd", "unquoted filename=../../etc/passwd")
	var stored, refused []string
	for i, d := range dispositions {
		content := fmt.Sprintf("bulwark filename probe %d %s\n", i, nonce())
		x, f, err := t.upload(ctx, tok.AccessToken, o.ID, d, "text/plain", content)
		if err != nil {
			return Result{}, err
		}
		if m := t.leaked(x.body); m != "" {
			return exploited("upload answer contains %q: %s", m, x)
		}
		switch {
		case x.status == http.StatusTooManyRequests || x.status == http.StatusConflict:
			return Result{}, fmt.Errorf("control: upload refused for another reason: %s", x)
		case x.status >= 400 && x.status < 500:
			refused = append(refused, fmt.Sprintf("%s→%d", labels[i], x.status))
			continue
		case x.status != http.StatusCreated:
			return exploited("upload answered %d: %s", x.status, x)
		}
		if why := unsafeName(f.Name); why != "" {
			return exploited("stored name %q %s: %s", f.Name, why, x)
		}
		l, _, err := t.link(ctx, tok.AccessToken, f.ID)
		if err != nil {
			return Result{}, err
		}
		dx, err := t.send(ctx, request{method: http.MethodGet, path: l.URL})
		if err != nil {
			return Result{}, err
		}
		if m := t.leaked(dx.body); m != "" {
			return exploited("download of %s served %q: %s", x.reqBody, m, dx)
		}
		if dx.status != http.StatusOK || string(dx.body) != content {
			return exploited("download of %s is not the uploaded bytes: %s", x.reqBody, dx)
		}
		stored = append(stored, fmt.Sprintf("%s→%q", labels[i], f.Name))
		// Remove it again so the probes stay under the per-order cap.
		del, err := t.send(ctx, request{method: http.MethodDelete, path: "/api/v1/files/" + f.ID, token: tok.AccessToken})
		if err != nil {
			return Result{}, err
		}
		if del.status != http.StatusNoContent {
			return Result{}, fmt.Errorf("control: owner could not delete probe file: %s", del)
		}
	}
	return blocked("%d hostile filenames. Refused: %s. Stored under a harmless name (no separator, NUL or leading dot) and downloaded byte-exact: %s",
		len(dispositions), strings.Join(refused, ", "), clip(strings.Join(stored, ", "), 600))
}

// traversalFilenames are the hostile filenames of files/traversal-filename:
// separators of both systems, absolute and drive paths, encodings decoded
// once too often, overlong UTF-8 dots, NUL, look-alike dots.
func traversalFilenames() []string {
	return []string{
		"../../../../etc/passwd",
		"..%2f..%2fetc%2fpasswd",
		"%2e%2e/%2e%2e/x",
		"%252e%252e%252f",
		`..\..\windows\win.ini`,
		"/etc/passwd",
		`C:\boot.ini`,
		"name\x00.txt",
		"%c0%ae%c0%ae/",
		"\xc0\xae\xc0\xae/x",
		"....//....//x",
		"\u2025/x",
		"../../canary.txt",
		"..",
	}
}

func traversalPath(ctx context.Context, t *Target) (Result, error) {
	h, err := t.holdings(ctx)
	if err != nil {
		return Result{}, err
	}
	tok, err := t.login(ctx, t.Alice)
	if err != nil {
		return Result{}, err
	}
	before, _, err := t.listFiles(ctx, tok.AccessToken, h.alice)
	if err != nil {
		return Result{}, err
	}
	if len(before) == 0 {
		return Result{}, fmt.Errorf("control: alice's order %s has no file", h.alice)
	}
	own := before[0].ID
	segments := traversalSegments(own)
	shapes := []struct {
		method, format string
		auth           bool
	}{
		{http.MethodGet, "/api/v1/files/%s", true},
		{http.MethodGet, "/api/v1/files/%s/download-url", true},
		{http.MethodDelete, "/api/v1/files/%s", true},
		{http.MethodGet, "/api/v1/orders/%s/files", true},
		{http.MethodGet, "/api/v1/downloads/%s", false},
		{http.MethodGet, "/%s", false},
	}
	counts := map[int]int{}
	for _, s := range shapes {
		for _, seg := range segments {
			token := ""
			if s.auth {
				token = tok.AccessToken
			}
			x, err := t.sendRaw(ctx, s.method, fmt.Sprintf(s.format, seg), token)
			if err != nil {
				return Result{}, err
			}
			counts[x.status]++
			switch {
			case t.leaked(x.body) != "":
				return exploited("response contains %q: %s", t.leaked(x.body), x)
			case x.status >= 500:
				return exploited("server error: %s", x)
			case x.status == http.StatusTooManyRequests:
				return Result{}, fmt.Errorf("control: rate limited, the probes prove nothing: %s", x)
			case x.status < 300 && !isJSON(x):
				return exploited("%d with %q content: %s", x.status, x.header.Get("Content-Type"), x)
			case x.status < 300 && s.method == http.MethodDelete:
				return exploited("a DELETE with a traversal segment succeeded: %s", x)
			}
		}
	}
	// Control: the DELETEs above reached no real file.
	after, _, err := t.listFiles(ctx, tok.AccessToken, h.alice)
	if err != nil {
		return Result{}, err
	}
	if len(after) != len(before) {
		return exploited("alice's order had %d files, now %d", len(before), len(after))
	}
	return blocked("%d traversal requests over %d routes: %s; no 5xx, no non-JSON 2xx, no canary; alice's files intact",
		len(shapes)*len(segments), len(shapes), statusCounts(counts))
}

// traversalSegments are the hostile path segments of files/traversal-path
// for every {id} route; own is a file id of the caller's, for segments that
// start valid and then climb out.
func traversalSegments(own string) []string {
	return []string{
		"..%2f..%2f..%2f..%2fetc%2fpasswd",
		"%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
		"%2e%2e",
		"..",
		"..%252f..%252f..%252fetc%252fpasswd",
		"%252e%252e%252f%252e%252e%252fcanary.txt",
		"..%5c..%5c..%5cetc%5cpasswd",
		`..\..\..\etc\passwd`,
		"%00",
		own + "%00",
		own + "%00..%2f..%2f..%2fetc%2fpasswd",
		own + "%2f..%2f..%2f..%2f..%2fcanary.txt",
		own + "/../../../../etc/passwd",
		"%2fetc%2fpasswd",
		"/etc/passwd",
		"..%c0%af..%c0%af..%c0%afetc%c0%afpasswd",
		"%c0%ae%c0%ae%2f%c0%ae%c0%ae%2fcanary.txt",
		"....%2f%2f....%2f%2fetc%2fpasswd",
		"..;/..;/etc/passwd",
		"..%u2215..%u2215etc%u2215passwd",
	}
}

// expectSame403 sends every variant and requires one and the same 403:
// no variant may be told apart from another, or leak anything.
func expectSame403(ctx context.Context, t *Target, path string, variants []linkVariant) (string, error) {
	var ref *exchange
	for _, v := range variants {
		x, err := t.sendRaw(ctx, http.MethodGet, path+"?"+v.query, "")
		if err != nil {
			return "", err
		}
		x.reqBody = "[" + v.name + "]"
		if m := t.leaked(x.body); m != "" {
			return fmt.Sprintf("%s: response contains %q: %s", v.name, m, x), nil
		}
		if x.status == http.StatusTooManyRequests {
			return "", fmt.Errorf("control: rate limited, the probes prove nothing: %s", x)
		}
		if x.status != http.StatusForbidden {
			return fmt.Sprintf("%s: answered %d, not 403: %s", v.name, x.status, x), nil
		}
		if ref == nil {
			ref = x
			continue
		}
		if normalizeProblem(x.body) != normalizeProblem(ref.body) || x.header.Get("Content-Type") != ref.header.Get("Content-Type") {
			return fmt.Sprintf("%s and %s answer differently: %s vs %s", v.name, ref.reqBody, normalizeProblem(x.body), normalizeProblem(ref.body)), nil
		}
	}
	return "", nil
}

type linkVariant struct {
	name  string
	query string
}

// download fetches a link without credentials and checks it is the file.
func (t *Target) downloadControl(ctx context.Context, l signedLink, f storedFile) (*exchange, error) {
	x, err := t.send(ctx, request{method: http.MethodGet, path: l.URL})
	if err != nil {
		return nil, err
	}
	if x.status != http.StatusOK || int64(len(x.body)) != f.SizeBytes {
		return x, fmt.Errorf("control: the untouched link does not download %s (%d bytes): %s", f.Name, f.SizeBytes, x)
	}
	return x, nil
}

func traversalSignedKey(ctx context.Context, t *Target) (Result, error) {
	f, l, _, err := t.aliceLink(ctx)
	if err != nil {
		return Result{}, err
	}
	path, q, err := linkParts(l)
	if err != nil {
		return Result{}, err
	}
	key, exp, kid, sig := q.Get("key"), q.Get("expires"), q.Get("kid"), q.Get("signature")
	if _, err := t.downloadControl(ctx, l, f); err != nil {
		return Result{}, err
	}
	keys := traversalKeys(key)
	var variants []linkVariant
	for _, k := range keys {
		// Three encodings of each key on the wire: query-escaped, as is
		// (only NUL escaped, which a URL cannot carry raw), and escaped twice.
		encodings := []struct{ name, key string }{
			{"escaped", url.QueryEscape(k)},
			{"raw", strings.ReplaceAll(k, "\x00", "%00")},
			{"double", url.QueryEscape(url.QueryEscape(k))},
		}
		for _, e := range encodings {
			variants = append(variants,
				linkVariant{fmt.Sprintf("key %q (%s), real signature", k, e.name), rawQuery("expires", exp, "key", e.key, "kid", kid, "signature", sig)},
				linkVariant{fmt.Sprintf("key %q (%s), invented signature", k, e.name), rawQuery("expires", exp, "key", e.key, "kid", kid, "signature", randomSignature())},
			)
		}
	}
	// Parameter pollution: the traversal key first, the signed one second.
	variants = append(variants, linkVariant{"traversal key before the signed one", rawQuery("expires", exp, "key", url.QueryEscape(keyDir(key)+"../../../../etc/passwd"), "key", url.QueryEscape(key), "kid", kid, "signature", sig)})
	if bad, err := expectSame403(ctx, t, path, variants); err != nil || bad != "" {
		if err != nil {
			return Result{}, err
		}
		return exploited("%s", bad)
	}
	return blocked("%d traversal keys × 3 encodings × real/invented signature (+1 polluted): all the same 403, no canary; the untouched link downloads (200)", len(keys))
}

// traversalKeys are the hostile object keys of files/traversal-signed-key,
// derived from a real key: climbing out of its directory, absolute paths,
// encoded separators, NUL, and spellings that path cleaning would fold
// back onto the real key.
func traversalKeys(key string) []string {
	dir := keyDir(key)
	return []string{
		dir + "../../../../canary.txt",
		dir + "../../../../../canary.txt",
		"../canary.txt",
		"../../canary.txt",
		dir + "../../../../etc/passwd",
		"/etc/passwd",
		`..\..\canary.txt`,
		dir + "%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
		key + "\x00",
		key + "%00",
		key + "\x00/../../../../canary.txt",
		key + "/../" + key[len(dir):],
		"./" + key,
		key + "/",
	}
}

// keyDir is the directory part of an object key: owners/<owner>/files/.
func keyDir(key string) string { return key[:strings.LastIndex(key, "/")+1] }

func signedURLTampering(ctx context.Context, t *Target) (Result, error) {
	h, err := t.holdings(ctx)
	if err != nil {
		return Result{}, err
	}
	alice, bob, err := loginBoth(ctx, t)
	if err != nil {
		return Result{}, err
	}
	f1, err := t.firstFile(ctx, alice, h.alice)
	if err != nil {
		return Result{}, err
	}
	f2, err := t.firstFile(ctx, alice, h.aliceOther)
	if err != nil {
		return Result{}, err
	}
	fb, err := t.firstFile(ctx, bob, h.bob)
	if err != nil {
		return Result{}, err
	}
	var qs [3]url.Values
	var path string
	for i, c := range []struct {
		tok string
		f   storedFile
	}{{alice, f1}, {alice, f2}, {bob, fb}} {
		l, _, err := t.link(ctx, c.tok, c.f.ID)
		if err != nil {
			return Result{}, err
		}
		if path, qs[i], err = linkParts(l); err != nil {
			return Result{}, err
		}
		if _, err := t.downloadControl(ctx, l, c.f); err != nil {
			return Result{}, err
		}
	}
	a, a2, b := qs[0], qs[1], qs[2]
	key, exp, kid, sig := a.Get("key"), a.Get("expires"), a.Get("kid"), a.Get("signature")
	// Another character of the same alphabet, so the signature still
	// decodes and only the MAC comparison can refuse it. The first one
	// carries six bits of the MAC; the last may carry only padding bits.
	flipped := []byte(sig)
	if flipped[0] == 'A' {
		flipped[0] = 'B'
	} else {
		flipped[0] = 'A'
	}
	expUnix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return Result{}, fmt.Errorf("control: expires %q is not a number", exp)
	}
	later := func(d int64) string { return strconv.FormatInt(expUnix+d, 10) }
	variants := []linkVariant{
		{"signature with one character changed", signedQuery(key, exp, kid, string(flipped))},
		{"signature one character short", signedQuery(key, exp, kid, sig[:len(sig)-1])},
		{"signature upper-cased", signedQuery(key, exp, kid, strings.ToUpper(sig))},
		{"signature with padding", signedQuery(key, exp, kid, sig+"=")},
		{"signature empty", signedQuery(key, exp, kid, "")},
		{"file 1's signature on file 2's key", signedQuery(a2.Get("key"), exp, kid, sig)},
		{"file 2's signature on file 1's key", signedQuery(key, a2.Get("expires"), a2.Get("kid"), a2.Get("signature"))},
		{"expiry extended by an hour", signedQuery(key, later(3600), kid, sig)},
		{"expiry extended by a second", signedQuery(key, later(1), kid, sig)},
		{"unknown key id", signedQuery(key, exp, "rotated-out", sig)},
		{"empty key id", signedQuery(key, exp, "", sig)},
		{"key id with a trailing space", signedQuery(key, exp, kid+" ", sig)},
		{"no key", rawQuery("expires", exp, "kid", kid, "signature", url.QueryEscape(sig))},
		{"no expires", rawQuery("key", url.QueryEscape(key), "kid", kid, "signature", url.QueryEscape(sig))},
		{"no kid", rawQuery("expires", exp, "key", url.QueryEscape(key), "signature", url.QueryEscape(sig))},
		{"no signature", rawQuery("expires", exp, "key", url.QueryEscape(key), "kid", kid)},
		{"no query", ""},
		{"bob's key, random signature", signedQuery(b.Get("key"), b.Get("expires"), b.Get("kid"), randomSignature())},
		{"bob's key, alice's signature", signedQuery(b.Get("key"), exp, kid, sig)},
		{"alice's key, bob's signature", signedQuery(key, b.Get("expires"), b.Get("kid"), b.Get("signature"))},
	}
	if bad, err := expectSame403(ctx, t, path, variants); err != nil || bad != "" {
		if err != nil {
			return Result{}, err
		}
		return exploited("%s", bad)
	}
	// Control again, after the probes: the real links still work.
	l1, _, err := t.link(ctx, alice, f1.ID)
	if err != nil {
		return Result{}, err
	}
	if _, err := t.downloadControl(ctx, l1, f1); err != nil {
		return Result{}, err
	}
	return blocked("%d tampered links (signature, swapped keys, expiry, kid, missing parameters, bob's key): all the same 403; the untouched links download (200)", len(variants))
}

func loginBoth(ctx context.Context, t *Target) (alice, bob string, err error) {
	a, err := t.login(ctx, t.Alice)
	if err != nil {
		return "", "", err
	}
	b, err := t.login(ctx, t.Bob)
	if err != nil {
		return "", "", err
	}
	return a.AccessToken, b.AccessToken, nil
}

// maxLinkTTL is the longest lifetime a download link may have: long
// enough to start a download, short enough that a leaked link (browser
// history, a proxy log, a forwarded email) is soon worthless.
const maxLinkTTL = 5 * time.Minute

// waitOutTTL is how long the attack is willing to wait for a link to
// expire for real.
const waitOutTTL = 20 * time.Second

func signedURLExpiry(ctx context.Context, t *Target) (Result, error) {
	f, l, lx, err := t.aliceLink(ctx)
	if err != nil {
		return Result{}, err
	}
	issued := time.Now()
	path, q, err := linkParts(l)
	if err != nil {
		return Result{}, err
	}
	// The server's clock, from its Date header: the attack may run
	// elsewhere, with a clock of its own.
	now, err := http.ParseTime(lx.header.Get("Date"))
	if err != nil {
		now = time.Now()
	}
	expUnix, err := strconv.ParseInt(q.Get("expires"), 10, 64)
	if err != nil {
		return Result{}, fmt.Errorf("control: expires %q is not a number", q.Get("expires"))
	}
	expires := time.Unix(expUnix, 0)
	ttl := expires.Sub(now)
	switch {
	case ttl > maxLinkTTL+time.Second:
		return exploited("link lives %s (expires %s, server time %s), over %s", ttl, expires.UTC(), now.UTC(), maxLinkTTL)
	case ttl <= 0:
		return Result{}, fmt.Errorf("control: link already expired when issued (expires %s, server time %s)", expires.UTC(), now.UTC())
	case l.ExpiresAt.Sub(expires).Abs() > time.Second:
		return exploited("expires_at %s does not match the link's expiry %s: clients are told a wrong lifetime", l.ExpiresAt.UTC(), expires.UTC())
	}
	if _, err := t.downloadControl(ctx, l, f); err != nil {
		return Result{}, err
	}
	key, kid, sig := q.Get("key"), q.Get("kid"), q.Get("signature")
	past := func(d time.Duration) string { return strconv.FormatInt(now.Add(-d).Unix(), 10) }
	variants := []linkVariant{
		{"expired a second ago", signedQuery(key, past(time.Second), kid, sig)},
		{"expired an hour ago", signedQuery(key, past(time.Hour), kid, sig)},
		{"expires at 0", signedQuery(key, "0", kid, sig)},
		{"expires at -1", signedQuery(key, "-1", kid, sig)},
		{"expiry with a leading zero", signedQuery(key, "0"+q.Get("expires"), kid, sig)},
		{"expiry with a leading plus", signedQuery(key, "+"+q.Get("expires"), kid, sig)},
		{"expiry in exponent form", signedQuery(key, "1e10", kid, sig)},
		{"expiry with a fraction", signedQuery(key, q.Get("expires")+".0", kid, sig)},
		{"expiry past int64", signedQuery(key, "99999999999999999999", kid, sig)},
	}
	if bad, err := expectSame403(ctx, t, path, variants); err != nil || bad != "" {
		if err != nil {
			return Result{}, err
		}
		return exploited("%s", bad)
	}
	if ttl > waitOutTTL {
		return blocked("link lives %s (≤ %s, expires_at matches); %d replays with a past or reworded expiry: all the same 403. "+
			"Real expiry not waited out (TTL over %s): run with DOWNLOAD_URL_TTL=10s to see the untouched link die", ttl, maxLinkTTL, len(variants), waitOutTTL)
	}
	// Short TTL: wait it out (the Date header and the expiry both have
	// one-second resolution, hence the margin) and replay the untouched link.
	const margin = 2 * time.Second
	select {
	case <-time.After(time.Until(issued.Add(ttl + margin))):
	case <-ctx.Done():
		return Result{}, fmt.Errorf("waiting for the link to expire: %w", ctx.Err())
	}
	x, err := t.send(ctx, request{method: http.MethodGet, path: l.URL})
	if err != nil {
		return Result{}, err
	}
	if x.status != http.StatusForbidden || t.leaked(x.body) != "" {
		return exploited("the untouched link still works %s after its expiry: %s", margin, x)
	}
	return blocked("link lives %s (≤ %s, expires_at matches); %d replays with a past or reworded expiry: all the same 403; "+
		"the untouched link downloaded before expiry and is 403 after it", ttl, maxLinkTTL, len(variants))
}

func filesBOLA(ctx context.Context, t *Target) (Result, error) {
	h, err := t.holdings(ctx)
	if err != nil {
		return Result{}, err
	}
	alice, bob, err := loginBoth(ctx, t)
	if err != nil {
		return Result{}, err
	}
	before, _, err := t.listFiles(ctx, alice, h.alice)
	if err != nil {
		return Result{}, err
	}
	if len(before) == 0 {
		return Result{}, fmt.Errorf("control: alice's order %s has no file", h.alice)
	}
	victim := before[0]
	body, formType, err := multipartFile(fileDisposition("from-bob.txt"), "text/plain", "planted by bob\n")
	if err != nil {
		return Result{}, err
	}
	// Each of bob's requests is paired with the same request for an id that
	// does not exist: the answers must be the same, or ids can be enumerated.
	pairs := []struct {
		what           string
		attack, absent request
	}{
		{
			"list alice's order's files",
			request{method: http.MethodGet, path: "/api/v1/orders/" + h.alice + "/files", token: bob},
			request{method: http.MethodGet, path: "/api/v1/orders/" + missingID + "/files", token: bob},
		},
		{
			"read alice's file",
			request{method: http.MethodGet, path: "/api/v1/files/" + victim.ID, token: bob},
			request{method: http.MethodGet, path: "/api/v1/files/" + missingID, token: bob},
		},
		{
			"link alice's file",
			request{method: http.MethodGet, path: "/api/v1/files/" + victim.ID + "/download-url", token: bob},
			request{method: http.MethodGet, path: "/api/v1/files/" + missingID + "/download-url", token: bob},
		},
		{
			"delete alice's file",
			request{method: http.MethodDelete, path: "/api/v1/files/" + victim.ID, token: bob},
			request{method: http.MethodDelete, path: "/api/v1/files/" + missingID, token: bob},
		},
		{
			"upload to alice's order",
			request{method: http.MethodPost, path: "/api/v1/orders/" + h.alice + "/files", body: body, ctype: formType, token: bob},
			request{method: http.MethodPost, path: "/api/v1/orders/" + missingID + "/files", body: body, ctype: formType, token: bob},
		},
	}
	for _, p := range pairs {
		x, err := t.send(ctx, p.attack)
		if err != nil {
			return Result{}, err
		}
		if p.attack.body != "" {
			x.reqBody = "[multipart from-bob.txt]"
		}
		if x.status != http.StatusNotFound {
			return exploited("bob: %s answered %d, not 404: %s", p.what, x.status, x)
		}
		miss, err := t.send(ctx, p.absent)
		if err != nil {
			return Result{}, err
		}
		if miss.status != x.status || normalizeProblem(miss.body) != normalizeProblem(x.body) {
			return exploited("bob: %s answers %d %s, a missing id %d %s: existence leaks",
				p.what, x.status, normalizeProblem(x.body), miss.status, normalizeProblem(miss.body))
		}
	}
	after, _, err := t.listFiles(ctx, alice, h.alice)
	if err != nil {
		return Result{}, err
	}
	got, err := t.send(ctx, request{method: http.MethodGet, path: "/api/v1/files/" + victim.ID, token: alice})
	if err != nil {
		return Result{}, err
	}
	if got.status != http.StatusOK || len(after) != len(before) {
		return exploited("alice's order had %d files, now %d; her file answers %d", len(before), len(after), got.status)
	}
	return blocked("%d of bob's requests on alice's order and file: each 404, the same as for a missing id; alice still has her %d file(s)", len(pairs), len(after))
}

// renderableTypes are content types a browser runs as a document.
func renderableTypes() []string {
	return []string{"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml", "text/javascript", "application/javascript"}
}

func dangerousUpload(ctx context.Context, t *Target) (Result, error) {
	tok, err := t.login(ctx, t.Alice)
	if err != nil {
		return Result{}, err
	}
	o, err := t.createOrder(ctx, tok.AccessToken, "dangerous upload probe")
	if err != nil {
		return Result{}, err
	}
	const script = `<script>fetch('/api/v1/users/me').then(r=>r.text()).then(alert)</script>`
	uploads := []struct{ name, ctype, content string }{
		{"invoice.html", "text/html", "<!DOCTYPE html><html><body>" + script + "</body></html>"},
		{"logo.svg", "image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.domain)">` + script + `</svg>`},
		{"report.pdf", "application/pdf", "<html><body>" + script + "</body></html>"},
		{"page.xhtml", "application/xhtml+xml", `<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml">` + script + `</html>`},
		{"polyglot.pdf", "text/html", "%PDF-1.4\n<html><body>" + script + "</body></html>\n%%EOF\n"},
		{"notes.txt", "text/plain", "delivery notes\n" + script + "\n"},
	}
	var outcomes []string
	accepted := 0
	for _, u := range uploads {
		x, f, err := t.upload(ctx, tok.AccessToken, o.ID, fileDisposition(u.name), u.ctype, u.content)
		if err != nil {
			return Result{}, err
		}
		switch x.status {
		case http.StatusUnsupportedMediaType, http.StatusBadRequest:
			outcomes = append(outcomes, fmt.Sprintf("%s %d", u.name, x.status))
			continue
		case http.StatusCreated:
		default:
			return Result{}, fmt.Errorf("control: upload of %s answered %d: %s", u.name, x.status, x)
		}
		l, _, err := t.link(ctx, tok.AccessToken, f.ID)
		if err != nil {
			return Result{}, err
		}
		dx, err := t.send(ctx, request{method: http.MethodGet, path: l.URL})
		if err != nil {
			return Result{}, err
		}
		if dx.status != http.StatusOK || string(dx.body) != u.content {
			return Result{}, fmt.Errorf("control: download of accepted %s failed: %s", u.name, dx)
		}
		h := dx.header
		ct := strings.ToLower(h.Get("Content-Type"))
		switch {
		case !strings.HasPrefix(strings.ToLower(h.Get("Content-Disposition")), "attachment"):
			return exploited("%s accepted and served inline (Content-Disposition %q, type %q): a page on the API's origin", u.name, h.Get("Content-Disposition"), ct)
		case h.Get("X-Content-Type-Options") != "nosniff":
			return exploited("%s served without nosniff: a browser may sniff it as HTML", u.name)
		case !strings.Contains(h.Get("Content-Security-Policy"), "sandbox"):
			return exploited("%s served without CSP sandbox (CSP %q)", u.name, h.Get("Content-Security-Policy"))
		case ct == "" || slices.ContainsFunc(renderableTypes(), func(r string) bool { return strings.HasPrefix(ct, r) }):
			return exploited("%s served as %q", u.name, ct)
		}
		accepted++
		outcomes = append(outcomes, fmt.Sprintf("%s 201→%s attachment", u.name, strings.SplitN(ct, ";", 2)[0]))
	}
	list, lx, err := t.listFiles(ctx, tok.AccessToken, o.ID)
	if err != nil {
		return Result{}, err
	}
	if len(list) != accepted {
		return exploited("%d uploads accepted but the order lists %d files: a refused upload was kept: %s", accepted, len(list), lx)
	}
	return blocked("%d active-content uploads: %s; every download: attachment, nosniff, CSP sandbox", len(uploads), strings.Join(outcomes, ", "))
}

// oversizeBytes is over the default upload cap (10 MiB) without knowing
// it: the attack only needs the answer to be 413 and nothing kept.
const oversizeBytes = 11 << 20

func oversizeUpload(ctx context.Context, t *Target) (Result, error) {
	tok, err := t.login(ctx, t.Alice)
	if err != nil {
		return Result{}, err
	}
	o, err := t.createOrder(ctx, tok.AccessToken, "oversize upload probe")
	if err != nil {
		return Result{}, err
	}
	boundary := multipart.NewWriter(io.Discard).Boundary()
	head := "--" + boundary + "\r\nContent-Disposition: " + fileDisposition("big.txt") + "\r\nContent-Type: text/plain\r\n\r\n"
	tail := "\r\n--" + boundary + "--\r\n"
	path := "/api/v1/orders/" + o.ID + "/files"
	var answers []string
	for _, declared := range []bool{false, true} {
		body := io.MultiReader(strings.NewReader(head), &textReader{left: oversizeBytes}, strings.NewReader(tail))
		length, how := int64(-1), "chunked, no length"
		if declared {
			length, how = int64(len(head)+oversizeBytes+len(tail)), "Content-Length declared"
		}
		x, err := t.sendStream(ctx, http.MethodPost, path, tok.AccessToken, "multipart/form-data; boundary="+boundary, body, length, "[11 MiB multipart, "+how+"]")
		if err != nil {
			return Result{}, err
		}
		if x.status != http.StatusRequestEntityTooLarge {
			return exploited("11 MiB upload (%s) answered %d, not 413: %s", how, x.status, x)
		}
		answers = append(answers, how+" → 413")
	}
	list, lx, err := t.listFiles(ctx, tok.AccessToken, o.ID)
	if err != nil {
		return Result{}, err
	}
	if lx.status != http.StatusOK || len(list) != 0 {
		return exploited("after two refused uploads the order lists %d file(s): %s", len(list), lx)
	}
	// Control: the order does take a small file, so the 413 was the size.
	x, _, err := t.upload(ctx, tok.AccessToken, o.ID, fileDisposition("small.txt"), "text/plain", "small\n")
	if err != nil {
		return Result{}, err
	}
	if x.status != http.StatusCreated {
		return Result{}, fmt.Errorf("control: a small upload to the same order failed: %s", x)
	}
	return blocked("11 MiB streamed twice: %s; the order still lists no file; a small upload to it is 201", strings.Join(answers, ", "))
}
