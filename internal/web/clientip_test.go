package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/web"
)

func prefixes(t *testing.T, cidrs ...string) []netip.Prefix {
	t.Helper()
	out := make([]netip.Prefix, 0, len(cidrs))
	for _, s := range cidrs {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// clientContext returns the echo context a request from peer with the given
// headers would get under ClientIP(trusted).
func clientContext(trusted []netip.Prefix, peer string, headers map[string]string) *echo.Context {
	e := echo.New()
	e.IPExtractor, e.SchemeExtractor = web.ClientIP(trusted)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.RemoteAddr = peer
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return e.NewContext(req, httptest.NewRecorder())
}

func TestClientIP(t *testing.T) {
	tenNet := []string{"10.0.0.0/8"}
	tests := []struct {
		name    string
		trusted []string
		peer    string
		headers map[string]string
		want    string
	}{
		{name: "no proxies: X-Forwarded-For ignored", peer: "203.0.113.5:40000",
			headers: map[string]string{"X-Forwarded-For": "1.2.3.4"}, want: "203.0.113.5"},
		{name: "no proxies: X-Real-IP ignored", peer: "203.0.113.5:40000",
			headers: map[string]string{"X-Real-IP": "1.2.3.4"}, want: "203.0.113.5"},
		{name: "no proxies: private peer still not believed", peer: "10.1.2.3:40000",
			headers: map[string]string{"X-Forwarded-For": "1.2.3.4"}, want: "10.1.2.3"},
		{name: "trusted proxy", trusted: tenNet, peer: "10.1.2.3:40000",
			headers: map[string]string{"X-Forwarded-For": "203.0.113.9"}, want: "203.0.113.9"},
		{name: "trusted proxy: client-supplied left entries ignored", trusted: tenNet, peer: "10.1.2.3:40000",
			headers: map[string]string{"X-Forwarded-For": "1.1.1.1, 203.0.113.9"}, want: "203.0.113.9"},
		{name: "trusted proxy chain skipped from the right", trusted: tenNet, peer: "10.1.2.3:40000",
			headers: map[string]string{"X-Forwarded-For": "203.0.113.9, 10.9.9.9"}, want: "203.0.113.9"},
		{name: "trusted proxy without header", trusted: tenNet, peer: "10.1.2.3:40000", want: "10.1.2.3"},
		{name: "untrusted peer sending X-Forwarded-For", trusted: tenNet, peer: "198.51.100.7:40000",
			headers: map[string]string{"X-Forwarded-For": "203.0.113.9"}, want: "198.51.100.7"},
		// echo trusts these ranges by default; ClientIP switches that off.
		{name: "loopback peer not trusted", trusted: tenNet, peer: "127.0.0.1:40000",
			headers: map[string]string{"X-Forwarded-For": "203.0.113.9"}, want: "127.0.0.1"},
		{name: "IPv6 loopback peer not trusted", trusted: tenNet, peer: "[::1]:40000",
			headers: map[string]string{"X-Forwarded-For": "203.0.113.9"}, want: "::1"},
		{name: "private peer outside the range not trusted", trusted: tenNet, peer: "192.168.1.1:40000",
			headers: map[string]string{"X-Forwarded-For": "203.0.113.9"}, want: "192.168.1.1"},
		{name: "link-local peer not trusted", trusted: tenNet, peer: "169.254.1.1:40000",
			headers: map[string]string{"X-Forwarded-For": "203.0.113.9"}, want: "169.254.1.1"},
		{name: "IPv6 trusted range", trusted: []string{"fd00::/8"}, peer: "[fd00::1]:443",
			headers: map[string]string{"X-Forwarded-For": "2001:db8::5"}, want: "2001:db8::5"},
		{name: "single trusted address", trusted: []string{"192.0.2.10/32"}, peer: "192.0.2.10:443",
			headers: map[string]string{"X-Forwarded-For": "203.0.113.9"}, want: "203.0.113.9"},
		{name: "neighbour of single trusted address", trusted: []string{"192.0.2.10/32"}, peer: "192.0.2.11:443",
			headers: map[string]string{"X-Forwarded-For": "203.0.113.9"}, want: "192.0.2.11"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := clientContext(prefixes(t, tt.trusted...), tt.peer, tt.headers)
			if got := c.RealIP(); got != tt.want {
				t.Errorf("RealIP() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestClientIPScheme(t *testing.T) {
	https := map[string]string{"X-Forwarded-Proto": "https"}
	tests := []struct {
		name    string
		trusted []string
		peer    string
		want    string
	}{
		{name: "no proxies: header ignored", peer: "127.0.0.1:40000", want: "http"},
		{name: "trusted proxy believed", trusted: []string{"10.0.0.0/8"}, peer: "10.1.2.3:40000", want: "https"},
		{name: "untrusted peer ignored", trusted: []string{"10.0.0.0/8"}, peer: "198.51.100.7:40000", want: "http"},
		{name: "loopback peer ignored", trusted: []string{"10.0.0.0/8"}, peer: "127.0.0.1:40000", want: "http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := clientContext(prefixes(t, tt.trusted...), tt.peer, https)
			if got := c.Scheme(); got != tt.want {
				t.Errorf("Scheme() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIPKey(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{name: "IPv4 kept whole", a: "192.0.2.1", b: "192.0.2.2", same: false},
		{name: "same IPv6 /64", a: "2001:db8:1:2::1", b: "2001:db8:1:2:ffff:ffff:ffff:ffff", same: true},
		{name: "different IPv6 /64", a: "2001:db8:1:2::1", b: "2001:db8:1:3::1", same: false},
		{name: "IPv4-mapped equals IPv4", a: "::ffff:192.0.2.1", b: "192.0.2.1", same: true},
		{name: "IPv6 spelling does not matter", a: "2001:DB8:0:0::1", b: "2001:db8::2", same: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ka, kb := web.IPKey(tt.a), web.IPKey(tt.b)
			if (ka == kb) != tt.same {
				t.Errorf("IPKey(%q) = %q, IPKey(%q) = %q; same = %v, want %v", tt.a, ka, tt.b, kb, ka == kb, tt.same)
			}
		})
	}

	exact := map[string]string{
		"192.0.2.1":        "ip:192.0.2.1",
		"::ffff:192.0.2.1": "ip:192.0.2.1",
		"2001:db8:1:2::1":  "ip6:2001:db8:1:2::/64",
	}
	for in, want := range exact {
		if got := web.IPKey(in); got != want {
			t.Errorf("IPKey(%q) = %q, want %q", in, got, want)
		}
	}
}
