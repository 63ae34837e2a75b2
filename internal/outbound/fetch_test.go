package outbound

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// resolverFunc is a resolver the test scripts.
type resolverFunc func(host string) ([]netip.Addr, error)

func (f resolverFunc) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	return f(host)
}

const canary = "metadata-canary-7f3a"

// servers: a "public" server the fetcher is allowed to reach, and a
// "metadata" server on loopback it must never reach.
func servers(t *testing.T) (public, metadata *httptest.Server) {
	t.Helper()
	metadata = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, canary)
	}))
	t.Cleanup(metadata.Close)
	public = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if to := r.URL.Query().Get("to"); to != "" {
			http.Redirect(w, r, to, http.StatusFound)
			return
		}
		_, _ = io.WriteString(w, "public")
	}))
	t.Cleanup(public.Close)
	return public, metadata
}

func addrPort(t *testing.T, s *httptest.Server) netip.AddrPort {
	t.Helper()
	return netip.MustParseAddrPort(strings.TrimPrefix(s.URL, "http://"))
}

func fetch(f *Fetcher, raw string) (string, error) {
	u, err := f.ParseURL(raw)
	if err != nil {
		return "", err
	}
	resp, err := f.Fetch(context.Background(), u)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// Every spelling of loopback, resolved however a resolver resolves it
// (inet_aton forms included, as getaddrinfo does), is refused where the
// socket connects; the allowlisted server is reached.
func TestFetcherRefusesEveryRouteToLoopback(t *testing.T) {
	public, metadata := servers(t)
	_, metaPort, _ := net.SplitHostPort(strings.TrimPrefix(metadata.URL, "http://"))
	loopback := netip.MustParseAddr("127.0.0.1")
	names := map[string]netip.Addr{
		"127.1": loopback, "0x7f000001": loopback, "2130706433": loopback, "0177.0.0.1": loopback,
		"loopback.test": loopback, "metadata.test": netip.MustParseAddr("169.254.169.254"),
		"mapped.test": netip.MustParseAddr("::ffff:127.0.0.1"),
	}
	f := NewFetcher(FetchConfig{
		AllowHTTP: true, Allow: []netip.AddrPort{addrPort(t, public)}, MaxBytes: 1 << 20,
		ConnectTimeout: time.Second, HeaderTimeout: time.Second, TotalTimeout: 3 * time.Second, MaxRedirects: 3,
		Resolver: resolverFunc(func(host string) ([]netip.Addr, error) {
			if a, ok := names[host]; ok {
				return []netip.Addr{a}, nil
			}
			return nil, errors.New("no such host")
		}),
	})
	if body, err := fetch(f, public.URL); err != nil || body != "public" {
		t.Fatalf("control: the allowed server: %q %v", body, err)
	}
	for _, host := range []string{"127.0.0.1", "127.1", "0x7f000001", "2130706433", "0177.0.0.1", "loopback.test", "mapped.test", "[::ffff:127.0.0.1]", "[::1]", "0.0.0.0"} {
		raw := "http://" + host + ":" + metaPort + "/"
		body, err := fetch(f, raw)
		if err == nil || strings.Contains(body, canary) {
			t.Errorf("%s: fetched %q (%v)", raw, body, err)
		}
	}
	if _, err := fetch(f, "http://metadata.test/latest/"); !errors.Is(err, ErrRefused) {
		t.Errorf("169.254.169.254: %v, want ErrRefused (before any packet is sent)", err)
	}
	if _, err := fetch(f, public.URL+"/?to="+metadata.URL); !errors.Is(err, ErrRefused) {
		t.Errorf("redirect to the metadata server: %v, want ErrRefused", err)
	}
}

// DNS rebinding: the first answer is the allowed server, every later one
// loopback. The fetcher resolves once per connection and checks the
// address it connects to, so no second answer can slip in.
func TestFetcherChecksTheAddressItConnectsTo(t *testing.T) {
	public, metadata := servers(t)
	pub := addrPort(t, public)
	var mu sync.Mutex
	asked := 0
	f := NewFetcher(FetchConfig{
		AllowHTTP: true, Allow: []netip.AddrPort{pub}, MaxBytes: 1 << 20,
		ConnectTimeout: time.Second, HeaderTimeout: time.Second, TotalTimeout: 3 * time.Second, MaxRedirects: 3,
		Resolver: resolverFunc(func(string) ([]netip.Addr, error) {
			mu.Lock()
			defer mu.Unlock()
			asked++
			if asked == 1 {
				return []netip.Addr{pub.Addr()}, nil
			}
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		}),
	})
	_ = metadata
	body, err := fetch(f, "http://rebind.test:"+strings.Split(public.URL, ":")[2]+"/")
	if err != nil || body != "public" || asked != 1 {
		t.Errorf("rebinding name: %q %v after %d lookups, want the public answer after one", body, err, asked)
	}
}

func TestFetcherPolicy(t *testing.T) {
	public, _ := servers(t)
	strict := NewFetcher(DefaultFetchConfig(1 << 20))
	for raw, want := range map[string]string{
		"http://example.com/":      "must be an https URL",
		"ftp://example.com/":       "must be an https URL",
		"https://u:p@example.com/": "must not contain credentials",
		"/relative":                "must be an absolute https URL",
		"https:///no-host":         "must name a host",
		"https://example.com/" + strings.Repeat("a", 2100): "must be at most 2048 characters",
	} {
		_, err := strict.ParseURL(raw)
		var ue *URLError
		if !errors.As(err, &ue) || ue.Reason != want {
			t.Errorf("%.40s: %v, want %q", raw, err, want)
		}
	}
	if tr := strict.client.Transport.(*http.Transport); tr.Proxy != nil || !tr.DisableCompression {
		t.Error("the transport takes a proxy from the environment or decompresses")
	}

	capped := NewFetcher(FetchConfig{AllowHTTP: true, Allow: []netip.AddrPort{addrPort(t, public)}, MaxBytes: 3, TotalTimeout: 3 * time.Second, MaxRedirects: 3})
	if _, err := fetch(capped, public.URL); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a 6-byte body under a 3-byte cap: %v, want ErrTooLarge", err)
	}
	// Port 80 and 443 only, unless the endpoint is allowlisted.
	other := NewFetcher(FetchConfig{AllowHTTP: true, MaxBytes: 1 << 20, TotalTimeout: 3 * time.Second, MaxRedirects: 3})
	if _, err := fetch(other, public.URL); !errors.Is(err, ErrRefused) {
		t.Errorf("a loopback server on port %s without the allowlist: %v, want ErrRefused", public.URL, err)
	}
}

// At most three redirects, each URL checked like the first: a fourth hop,
// or a hop to a URL with credentials, is refused.
func TestFetcherRedirects(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n := r.URL.Query().Get("n"); {
		case r.URL.Query().Get("creds") != "":
			http.Redirect(w, r, "http://user:secret@"+strings.TrimPrefix(srv.URL, "http://")+"/", http.StatusFound)
		case n == "" || n == "0":
			_, _ = io.WriteString(w, "arrived")
		default:
			next := map[string]string{"1": "0", "2": "1", "3": "2", "4": "3"}[n]
			http.Redirect(w, r, "/?n="+next, http.StatusFound)
		}
	}))
	t.Cleanup(srv.Close)
	f := NewFetcher(FetchConfig{AllowHTTP: true, Allow: []netip.AddrPort{addrPort(t, srv)}, MaxBytes: 1 << 20, TotalTimeout: 3 * time.Second, MaxRedirects: 3})
	if body, err := fetch(f, srv.URL+"/?n=3"); err != nil || body != "arrived" {
		t.Errorf("3 redirects: %q %v, want them followed", body, err)
	}
	if _, err := fetch(f, srv.URL+"/?n=4"); !errors.Is(err, ErrRefused) {
		t.Errorf("4 redirects: %v, want ErrRefused", err)
	}
	if _, err := fetch(f, srv.URL+"/?creds=1"); !errors.Is(err, ErrRefused) {
		t.Errorf("a redirect to a URL with credentials: %v, want ErrRefused", err)
	}
}
