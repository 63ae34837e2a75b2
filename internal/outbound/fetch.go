// Package outbound is the service's way out to other servers. It has two
// clients, one per kind of destination:
//
//   - Fetcher, for URLs a customer supplies (attach a file from a URL). The
//     customer chooses the destination, so every connection is checked at
//     dial time against the special-purpose address registries, and the
//     answer never says what the fetch saw (docs/10-ssrf.md).
//   - NewAPIClient, for a partner the operator configured (the payment
//     provider): TLS, deadlines, no redirects, no proxy from the
//     environment (docs/11-third-party-data.md).
package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"strconv"
	"syscall"
	"time"

	"code.dny.dev/ssrf"
)

// Resolver turns a host name into addresses. *net.Resolver is one; tests
// pass their own to play DNS rebinding.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// FetchConfig is what a Fetcher may reach and how long it may take.
type FetchConfig struct {
	// AllowHTTP permits http:// URLs and port 80 besides https on 443.
	// Development only: config refuses it in production.
	AllowHTTP bool
	// Allow lists endpoints that may be reached although their address is
	// special-purpose (a loopback test server). Development and tests only:
	// config refuses it in production.
	Allow []netip.AddrPort
	// Resolver looks host names up; nil means the system's.
	Resolver Resolver
	// MaxBytes is the largest body read; the body fails past it.
	MaxBytes int64
	// ConnectTimeout bounds each TCP connect (and TLS handshake),
	// HeaderTimeout the wait for the response headers after the request
	// was sent, TotalTimeout the whole fetch, body included.
	ConnectTimeout, HeaderTimeout, TotalTimeout time.Duration
	// MaxRedirects is how many redirects are followed; each new URL is
	// checked like the first, and each connection at dial time.
	MaxRedirects int
}

// DefaultFetchConfig is the production policy: https on 443 to public
// addresses only, three redirects, 5 s to connect, 10 s to the headers,
// 30 s in all.
func DefaultFetchConfig(maxBytes int64) FetchConfig {
	return FetchConfig{
		MaxBytes: maxBytes, ConnectTimeout: 5 * time.Second, HeaderTimeout: 10 * time.Second,
		TotalTimeout: 30 * time.Second, MaxRedirects: 3,
	}
}

// URLError means the URL itself is unacceptable, whatever it points at:
// its text is about the URL the client sent, so it may be shown to them.
type URLError struct{ Reason string }

func (e *URLError) Error() string { return e.Reason }

// ErrRefused wraps every refusal of a destination at dial time. Callers do
// not show it: a refused address must look like an unreachable one.
var ErrRefused = errors.New("destination refused") //nolint:gochecknoglobals // sentinel.

// ErrTooLarge is returned by a fetched body that goes past MaxBytes.
var ErrTooLarge = errors.New("response larger than the cap") //nolint:gochecknoglobals // sentinel.

// maxURLLength bounds the URL a client may send.
const maxURLLength = 2048

// Fetcher fetches customer-supplied URLs.
type Fetcher struct {
	cfg    FetchConfig
	client *http.Client
}

// NewFetcher builds the client. Its transport dials through a
// net.Dialer whose Control hook checks the address the socket is about to
// connect to: the address actually used, after DNS, after every redirect,
// so no answer can change between the check and the connect.
func NewFetcher(cfg FetchConfig) *Fetcher {
	ports := []uint16{443}
	if cfg.AllowHTTP {
		ports = append(ports, 80)
	}
	guard := ssrf.New(ssrf.WithPorts(ports...))
	allow := cfg.Allow
	control := func(network, address string, _ syscall.RawConn) error {
		if ap, err := netip.ParseAddrPort(address); err == nil {
			ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
			for _, a := range allow {
				if a == ap {
					return nil
				}
			}
		}
		if err := guard.Safe(network, address, nil); err != nil {
			return fmt.Errorf("%w: %w", ErrRefused, err)
		}
		return nil
	}
	dialer := &net.Dialer{Timeout: cfg.ConnectTimeout, Control: control}
	var resolver Resolver = net.DefaultResolver
	if cfg.Resolver != nil {
		resolver = cfg.Resolver
	}
	transport := &http.Transport{
		// Never a proxy from the environment: HTTPS_PROXY set for some
		// other purpose would carry customer URLs past the dial check.
		Proxy:                 nil,
		DialContext:           dialResolved(dialer, resolver),
		TLSHandshakeTimeout:   cfg.ConnectTimeout,
		ResponseHeaderTimeout: cfg.HeaderTimeout,
		// The bytes as sent: no transparent gzip, so the size cap counts
		// what is stored and a compression bomb stays compressed.
		DisableCompression:     true,
		MaxIdleConns:           16,
		IdleConnTimeout:        30 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	f := &Fetcher{cfg: cfg}
	f.client = &http.Client{
		Transport: transport,
		Timeout:   cfg.TotalTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > cfg.MaxRedirects {
				return fmt.Errorf("more than %d redirects: %w", cfg.MaxRedirects, ErrRefused)
			}
			// Each hop is checked like the first URL (scheme, no
			// credentials); its address is checked at dial time.
			if err := f.checkURL(req.URL); err != nil {
				return fmt.Errorf("redirect to %s: %w: %w", LogForm(req.URL.String()), ErrRefused, err)
			}
			return nil
		},
	}
	return f
}

// dialResolved resolves the host itself, through resolver, and dials the
// addresses one by one, each through dialer (whose Control hook checks it).
func dialResolved(dialer *net.Dialer, resolver Resolver) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		var ips []netip.Addr
		if ip, err := netip.ParseAddr(host); err == nil {
			ips = []netip.Addr{ip}
		} else if ips, err = resolver.LookupNetIP(ctx, "ip", host); err != nil {
			return nil, fmt.Errorf("resolve %s: %w", host, err)
		}
		var errs []error
		for _, ip := range ips {
			conn, err := dialer.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
			if err == nil {
				return conn, nil
			}
			errs = append(errs, err)
		}
		if len(errs) == 0 {
			return nil, fmt.Errorf("resolve %s: no addresses", host)
		}
		return nil, errors.Join(errs...)
	}
}

// checkURL refuses what no destination can make acceptable: another
// scheme, credentials in the URL, no host. Where it points is decided at
// dial time, not here.
func (f *Fetcher) checkURL(u *url.URL) error {
	switch {
	case u.Scheme != "https" && (!f.cfg.AllowHTTP || u.Scheme != "http"):
		return &URLError{Reason: "must be an https URL"}
	case u.User != nil:
		return &URLError{Reason: "must not contain credentials"}
	case u.Hostname() == "":
		return &URLError{Reason: "must name a host"}
	}
	return nil
}

// ParseURL parses and checks a URL the client sent.
func (f *Fetcher) ParseURL(raw string) (*url.URL, error) {
	if len(raw) > maxURLLength {
		return nil, &URLError{Reason: "must be at most " + strconv.Itoa(maxURLLength) + " characters"}
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return nil, &URLError{Reason: "must be an absolute https URL"}
	}
	if err := f.checkURL(u); err != nil {
		return nil, err
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// Response is a successful fetch: a 200 whose body is still to be read.
type Response struct {
	// Body fails with ErrTooLarge past MaxBytes; the caller closes it.
	Body io.ReadCloser
	// Name is the last segment of the final URL's path, for the stored
	// file's name ("" when the path has none).
	Name string
}

// Fetch GETs the URL. Any answer but 200 is an error, so an error page is
// never stored as the file. Errors say in detail what happened, for the
// log; callers show none of it.
func (f *Fetcher) Fetch(ctx context.Context, u *url.URL) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("User-Agent", "bulwark-import/1")
	req.Header.Set("Accept", "*/*")
	resp, err := f.client.Do(req) //nolint:gosec // G107: the URL is the customer's by design; every dial is checked (NewFetcher).
	if err != nil {
		// The query may carry someone's token (a presigned link): the log
		// gets the URL without it.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			uerr.URL = LogForm(uerr.URL)
		}
		return nil, fmt.Errorf("fetch %s: %w", LogForm(u.String()), err)
	}
	if resp.StatusCode != http.StatusOK {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("fetch %s: answered %d", LogForm(u.String()), resp.StatusCode)
	}
	name := path.Base(resp.Request.URL.Path)
	if name == "/" || name == "." {
		name = ""
	}
	return &Response{Body: &cappedBody{rc: resp.Body, left: f.cfg.MaxBytes}, Name: name}, nil
}

// LogForm is a URL as it may be logged: scheme, host and path, without
// credentials, query or fragment.
func LogForm(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}

// cappedBody fails once more than left bytes have come, so a huge or
// endless answer is cut off while it streams.
type cappedBody struct {
	rc   io.ReadCloser
	left int64
}

func (c *cappedBody) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, ErrTooLarge
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.rc.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return 0, ErrTooLarge
	}
	return n, err
}

func (c *cappedBody) Close() error { return c.rc.Close() }

// DNSResolver asks the DNS server at addr instead of the system's
// resolver (IMPORT_DNS_SERVER): an operator's filtering resolver, or the
// tests' own, which plays DNS rebinding.
func DNSResolver(addr string) *net.Resolver {
	dialer := &net.Dialer{Timeout: 2 * time.Second}
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
	}
}
