package tests

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-dev/bulwark/tools/attack"
)

// startLab starts the SSRF attacks' stage (tools/attack/ssrf_lab.go).
func startLab(t *testing.T) *attack.SSRFLab {
	t.Helper()
	lab, err := attack.StartSSRFLab()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lab.Close)
	return lab
}

// ssrfEnv lets the server fetch the lab's "public" server, a loopback
// address it would otherwise refuse, over http: the development-only
// settings production refuses (internal/config/thirdparty.go). Names are
// looked up on a DNS server of the test's own on loopback (one that knows
// none, unless extra names another), so that spellings such as
// "0x7f000001" never leave the machine as DNS queries.
func ssrfEnv(t *testing.T, lab *attack.SSRFLab, extra map[string]string) map[string]string {
	t.Helper()
	env := map[string]string{"IMPORT_ALLOW_HTTP": "true", "IMPORT_ALLOW_HOSTS": lab.Public}
	if _, ok := extra["IMPORT_DNS_SERVER"]; !ok {
		env["IMPORT_DNS_SERVER"] = startDNS(t, nil).Addr
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// The catalogue's SSRF attacks, each against a fresh server that may
// reach the lab's public host and nothing else on loopback.
func TestSSRFAttacks(t *testing.T) {
	for _, a := range attack.ByIssue("ssrf") {
		t.Run(a.ID, func(t *testing.T) {
			lab := startLab(t)
			srv := startServer(t, ssrfEnv(t, lab, nil))
			srv.Target.SSRF = lab
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
}

// importer is alice, attaching URLs to one of her orders.
type importer struct {
	t     *testing.T
	srv   *server
	token string
	order string
}

func newImporter(t *testing.T, srv *server) *importer {
	t.Helper()
	tok, err := srv.Target.Login(t.Context(), srv.Target.Alice)
	if err != nil {
		t.Fatal(err)
	}
	return &importer{t: t, srv: srv, token: tok, order: aliceOrder}
}

func (im *importer) call(method, path, body string) (int, []byte) {
	im.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequestWithContext(im.t.Context(), method, im.srv.URL+path, r)
	req.Header.Set("Authorization", "Bearer "+im.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		im.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (im *importer) importURL(u string) (int, []byte) {
	im.t.Helper()
	body, _ := json.Marshal(map[string]string{"url": u})
	return im.call(http.MethodPost, "/api/v1/orders/"+im.order+"/files/import", string(body))
}

// storedContents downloads every file of the order.
func (im *importer) storedContents() []string {
	im.t.Helper()
	status, body := im.call(http.MethodGet, "/api/v1/orders/"+im.order+"/files", "")
	if status != http.StatusOK {
		im.t.Fatalf("list files: %d %s", status, body)
	}
	var list struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		im.t.Fatal(err)
	}
	var out []string
	for _, f := range list.Items {
		status, body := im.call(http.MethodGet, "/api/v1/files/"+f.ID+"/download-url", "")
		var link struct {
			URL string `json:"url"`
		}
		if status != http.StatusOK || json.Unmarshal(body, &link) != nil {
			im.t.Fatalf("download-url: %d %s", status, body)
		}
		_, content := im.call(http.MethodGet, link.URL, "")
		out = append(out, string(content))
	}
	return out
}

type fetchProblem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// Every way of reaching loopback from the import route, against the
// secure build: each must answer the one refusal, and the lab's canary
// must appear in no answer and no stored file. The allowed public host is
// fetched first, to show the route works and the refusals are not an
// accident of set-up.
func TestSSRFImportNeverReachesInternalAddresses(t *testing.T) {
	lab := startLab(t)
	publicHost, publicPort, _ := net.SplitHostPort(lab.Public)
	_, metaPort, _ := net.SplitHostPort(lab.Metadata)
	dns := startDNS(t, map[string][]string{
		"loopback.test.": {"127.0.0.1"},
		// First answer the allowed public host, then loopback, where the
		// twin serves the canary at the same port.
		"rebind.test.": {publicHost, "127.0.0.1"},
		"public.test.": {publicHost},
	})
	srv := startServer(t, ssrfEnv(t, lab, map[string]string{"IMPORT_DNS_SERVER": dns.Addr}))
	im := newImporter(t, srv)

	if status, body := im.importURL(lab.PublicURL("/file.txt")); status != http.StatusCreated {
		t.Fatalf("control: the allowed public host: %d %s", status, body)
	}
	if status, body := im.importURL("http://public.test:" + publicPort + "/file.txt"); status != http.StatusCreated {
		t.Fatalf("control: the allowed public host by name, through the test's DNS: %d %s", status, body)
	}

	toMeta := func(u string) string { return lab.PublicURL("/redirect?to=" + url.QueryEscape(u)) }
	cases := []struct{ name, url string }{
		{"127.0.0.1", lab.MetadataURL("127.0.0.1")},
		{"localhost", lab.MetadataURL("localhost")},
		{"LOCALHOST", lab.MetadataURL("LOCALHOST")},
		{"127.1", lab.MetadataURL("127.1")},
		{"0x7f000001", lab.MetadataURL("0x7f000001")},
		{"2130706433 (decimal)", lab.MetadataURL("2130706433")},
		{"0177.0.0.1 (octal)", lab.MetadataURL("0177.0.0.1")},
		{"[::1]", lab.MetadataURL("[::1]")},
		{"[::ffff:127.0.0.1] (IPv4-mapped)", lab.MetadataURL("[::ffff:127.0.0.1]")},
		{"[64:ff9b::7f00:1] (NAT64)", lab.MetadataURL("[64:ff9b::7f00:1]")},
		{"0.0.0.0", lab.MetadataURL("0.0.0.0")},
		{"169.254.169.254 (cloud metadata)", "http://169.254.169.254/latest/meta-data/"},
		{"100.64.0.1 (CGNAT)", "http://100.64.0.1/"},
		{"a name that resolves to loopback", "http://loopback.test:" + metaPort + "/latest/meta-data/"},
		{"redirect from the allowed host to the metadata service", toMeta(lab.MetadataURL("127.0.0.1"))},
		{"redirect from the allowed host to a loopback name", toMeta("http://loopback.test:" + metaPort + "/")},
		{"allowed host, one redirect too many", lab.PublicURL("/hops/4")},
	}
	if lab.Twin != "" {
		cases = append(cases, struct{ name, url string }{"DNS rebinding (public first, then loopback)", "http://rebind.test:" + publicPort + "/latest/meta-data/"})
	} else {
		t.Log("127.0.0.2 cannot be bound here: the DNS rebinding case is not run")
	}
	var first *fetchProblem
	for _, c := range cases {
		status, body := im.importURL(c.url)
		t.Logf("%-60s → %d %s", c.name, status, body)
		if strings.Contains(string(body), lab.Canary) {
			t.Errorf("%s: the canary is in the answer: %s", c.name, body)
		}
		var p fetchProblem
		if status != http.StatusBadRequest || json.Unmarshal(body, &p) != nil || p.Detail != "The URL could not be fetched." {
			t.Errorf("%s: %d %s, want 400 \"The URL could not be fetched.\"", c.name, status, body)
			continue
		}
		if first == nil {
			first = &p
		} else if p != *first {
			t.Errorf("%s: %+v differs from %+v: the answer tells refusals apart", c.name, p, *first)
		}
	}
	if lab.Twin != "" && dns.Asked("rebind.test.") != 1 {
		t.Errorf("rebind.test was looked up %d times, want once: the address checked must be the address used", dns.Asked("rebind.test."))
	}
	stored := im.storedContents()
	for _, content := range stored {
		if strings.Contains(content, lab.Canary) {
			t.Errorf("a stored file holds the canary: %q", content)
		}
	}
	// The seeded file and the two controls; nothing else was stored.
	if len(stored) != 3 {
		t.Errorf("the order has %d files, want 3 (seed + 2 controls)", len(stored))
	}
}

// Three redirects are followed, each to a checked URL; a fourth is
// refused (TestSSRFImportNeverReachesInternalAddresses).
func TestSSRFImportFollowsAFewRedirects(t *testing.T) {
	lab := startLab(t)
	srv := startServer(t, ssrfEnv(t, lab, nil))
	im := newImporter(t, srv)
	status, body := im.importURL(lab.PublicURL("/hops/2")) // 3 redirects: /hops/1, /hops/0, /file.txt
	if status != http.StatusCreated {
		t.Fatalf("3 redirects on the allowed host: %d %s", status, body)
	}
	var f struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(body, &f)
	if f.Name != "file.txt" {
		t.Errorf("stored as %q, want the final URL's name file.txt", f.Name)
	}
}

// A closed port, a server that never answers and a refused address get
// the same answer; an answer past the upload cap is the upload's 413; an
// error status is not stored as the file. Nothing is stored by any.
func TestSSRFImportFailuresLookAlike(t *testing.T) {
	lab := startLab(t)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	_ = closed.Close()
	srv := startServer(t, ssrfEnv(t, lab, map[string]string{
		"IMPORT_ALLOW_HOSTS": lab.Public + "," + closedAddr,
		"REQUEST_TIMEOUT":    "3s",
		"UPLOAD_MAX_BYTES":   "65536",
	}))
	im := newImporter(t, srv)
	cases := []struct {
		name, url string
		status    int
	}{
		{"refused address", lab.MetadataURL("127.0.0.1"), http.StatusBadRequest},
		{"closed port", "http://" + closedAddr + "/file.txt", http.StatusBadRequest},
		{"no answer (timeout)", lab.PublicURL("/slow"), http.StatusBadRequest},
		{"error status", lab.PublicURL("/missing"), http.StatusBadRequest},
		{"unresolvable name", "http://does-not-exist.invalid/", http.StatusBadRequest},
		{"endless body", lab.PublicURL("/huge"), http.StatusRequestEntityTooLarge},
	}
	var details []string
	for _, c := range cases {
		start := time.Now()
		status, body := im.importURL(c.url)
		t.Logf("%-20s → %d in %s %s", c.name, status, time.Since(start).Round(time.Millisecond), body)
		if status != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, status, body, c.status)
		}
		var p fetchProblem
		_ = json.Unmarshal(body, &p)
		if status == http.StatusBadRequest {
			details = append(details, p.Detail)
		}
	}
	for _, d := range details {
		if d != details[0] {
			t.Errorf("the failures answer differently: %q", details)
			break
		}
	}
	if n := len(im.storedContents()); n != 1 {
		t.Errorf("the order has %d files after only failures, want the seeded 1", n)
	}
}

// Bad input is a 400 naming the field, before anything is fetched.
func TestSSRFImportValidatesTheURL(t *testing.T) {
	lab := startLab(t)
	srv := startServer(t, nil) // production-like: https only
	im := newImporter(t, srv)
	for _, body := range []string{
		`{"url":""}`,
		`{"url":"not a url"}`,
		`{"url":"ftp://example.com/file"}`,
		`{"url":"https://user:pass@example.com/file"}`,
		`{"url":"` + lab.PublicURL("/file.txt") + `"}`, // http, not allowed here
		`{"url":"https://example.com/` + strings.Repeat("a", 2100) + `"}`,
		`{"url":"https://example.com/","extra":1}`,
		`{"URL":"https://example.com/"}`,
	} {
		status, resp := im.call(http.MethodPost, "/api/v1/orders/"+aliceOrder+"/files/import", body)
		if status != http.StatusBadRequest || strings.Contains(string(resp), lab.Canary) {
			t.Errorf("%s → %d %s, want 400", clipString(body, 80), status, resp)
		}
	}
	// Another customer's order is a 404, as for an upload.
	im.order = "0de00000-0000-4000-8000-00000000b001"
	if status, body := im.importURL("https://example.com/file.txt"); status != http.StatusNotFound {
		t.Errorf("bob's order: %d %s, want 404", status, body)
	}
}

func clipString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
