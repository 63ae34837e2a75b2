package web

import (
	"net"
	"net/netip"

	"github.com/labstack/echo/v5"
)

// ClientIP returns the extractors echo uses for c.RealIP() and c.Scheme().
// Without trusted proxies the address is the TCP peer's and X-Forwarded-For
// is ignored: anyone can send that header, and believing it lets an attacker
// pick a new rate-limit key per request. With trusted proxies, the header is
// read from the right, skipping only hops inside the trusted ranges, and
// X-Forwarded-Proto is believed from those hops only.
func ClientIP(trustedProxies []netip.Prefix) (echo.IPExtractor, echo.SchemeExtractor) {
	if len(trustedProxies) == 0 {
		return echo.ExtractIPDirect(), echo.ExtractSchemeDirect()
	}
	// echo trusts loopback, link-local and private ranges by default; a
	// template must trust exactly what was configured and nothing more.
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trustedProxies {
		opts = append(opts, echo.TrustIPRange(&net.IPNet{
			IP:   net.IP(p.Addr().AsSlice()),
			Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen()),
		}))
	}
	return echo.ExtractIPFromXFFHeader(opts...), echo.ExtractSchemeFromHeaders(opts...)
}

// IPKey is the rate-limit key for an address. IPv6 clients are keyed by
// their /64: one customer line usually owns a whole /64 and can rotate
// through its 2^64 addresses for free.
func IPKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return "ip:" + ip
	}
	addr = addr.Unmap()
	if addr.Is4() {
		return "ip:" + addr.String()
	}
	p, _ := addr.Prefix(64)
	return "ip6:" + p.String()
}
