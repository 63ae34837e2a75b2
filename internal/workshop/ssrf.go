//go:build workshop

package workshop

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"slices"

	"github.com/bulwark-dev/bulwark/internal/outbound"
)

// POST /api/v1/orders/{id}/files/import, server-side request forgery.
// Both variants keep the secure handler and storage (files.ImportHandler,
// Service.Upload); only the fetcher differs, so the lesson is the fetcher.
//
// Vulnerable: a default http.Client. Any scheme Go speaks, any port, any
// address: 127.0.0.1, the cloud metadata service at 169.254.169.254, the
// database's port; ten redirects followed; a proxy from the environment.
//
// Naive: a blocklist of host names, checked before the fetch, then the
// same client. It stops the URL on the pen-test report
// (http://127.0.0.1/…, http://localhost/…, http://169.254.169.254/…) and
// nothing else: [::ffff:127.0.0.1], 0.0.0.0, LOCALHOST, a name that
// resolves to loopback, a redirect from a host it allows, DNS rebinding.
//
// Secure code: internal/outbound/fetch.go checks the address each socket
// connects to, at dial time (NewFetcher), against the IANA special-purpose
// registries, for every hop.
type plainFetcher struct {
	client    *http.Client
	blocklist []string
}

func ssrfVulnerableFetcher(dnsServer string) plainFetcher {
	return plainFetcher{client: defaultClient(dnsServer)}
}

func ssrfNaiveFetcher(dnsServer string) plainFetcher {
	return plainFetcher{client: defaultClient(dnsServer), blocklist: []string{"localhost", "127.0.0.1", "169.254.169.254"}}
}

// defaultClient is http.Client{} as teams write it. It asks
// IMPORT_DNS_SERVER when one is set, as the secure client does, so that
// the tests' lookups stay on their loopback DNS server; that changes
// nothing about what it lets through.
func defaultClient(dnsServer string) *http.Client {
	if dnsServer == "" {
		return &http.Client{}
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Resolver: outbound.DNSResolver(dnsServer)}).DialContext
	return &http.Client{Transport: t}
}

func (f plainFetcher) ParseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Hostname() == "" {
		return nil, &outbound.URLError{Reason: "must be an absolute URL"}
	}
	if slices.Contains(f.blocklist, u.Hostname()) { // the string, as typed: the bug is the point
		return nil, &outbound.URLError{Reason: "must not point at an internal host"}
	}
	return u, nil
}

func (f plainFetcher) Fetch(ctx context.Context, u *url.URL) (*outbound.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := f.client.Do(req) //nolint:gosec // G107: the forgery is the point of this variant.
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("answered %d", resp.StatusCode)
	}
	return &outbound.Response{Body: resp.Body, Name: path.Base(resp.Request.URL.Path)}, nil
}
