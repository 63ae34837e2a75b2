package config

import (
	"errors"
	"net"
	"net/netip"
)

// DefaultMetricsAddr keeps the metrics on loopback: they tell an attacker
// which defences are firing, so reaching them from elsewhere (a Prometheus
// on another host) is a decision the operator makes by setting METRICS_ADDR.
const DefaultMetricsAddr = "127.0.0.1:9090"

// MetricsOff is the METRICS_ADDR that serves no metrics.
const MetricsOff = "off"

// MetricsEnabled reports whether the metrics listener runs.
func (c Config) MetricsEnabled() bool { return c.MetricsAddr != MetricsOff }

// validateMetrics refuses a metrics address that is not host:port, or that
// is the API's own: the metrics must never be served on the API's port,
// where every client of the API could read them.
func (c Config) validateMetrics() error {
	if !c.MetricsEnabled() {
		return nil
	}
	mHost, mPort, err := net.SplitHostPort(c.MetricsAddr)
	if err != nil {
		return errors.New(`METRICS_ADDR must be host:port (default 127.0.0.1:9090) or "off"`)
	}
	hHost, hPort, err := net.SplitHostPort(c.HTTPAddr)
	if err != nil || mPort != hPort || mPort == "0" {
		// Port 0 asks for a free port: two of them never collide.
		return nil
	}
	if mHost == hHost || anyHost(mHost) || anyHost(hHost) {
		return errors.New("METRICS_ADDR must differ from HTTP_ADDR: the metrics are never served on the API's port")
	}
	return nil
}

// anyHost reports whether host listens on every address ("", 0.0.0.0, ::).
func anyHost(host string) bool {
	if host == "" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsUnspecified()
}
