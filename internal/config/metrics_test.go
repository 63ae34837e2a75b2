package config_test

import (
	"strings"
	"testing"

	"github.com/bulwark-dev/bulwark/internal/config"
)

// The metrics listener is never the API's: an address that would share
// the API's port is refused at start, whichever way it is spelled.
func TestMetricsAddr(t *testing.T) {
	for _, tt := range []struct {
		name, http, metrics string
		refused             bool
	}{
		{"default", "", "", false},
		{"off", "127.0.0.1:8080", "off", false},
		{"another port", "0.0.0.0:8080", "127.0.0.1:9090", false},
		{"both free ports", "127.0.0.1:0", "127.0.0.1:0", false},
		{"another host, same port", "10.0.0.1:8080", "127.0.0.1:8080", false},
		{"the API's address", "127.0.0.1:8080", "127.0.0.1:8080", true},
		{"the API's default address", "", "127.0.0.1:8080", true},
		{"the API on every address", "0.0.0.0:8080", "127.0.0.1:8080", true},
		{"metrics on every address", "127.0.0.1:8080", ":8080", true},
		{"not host:port", "", "9090", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Load(env(map[string]string{"HTTP_ADDR": tt.http, "METRICS_ADDR": tt.metrics}))
			if tt.refused {
				if err == nil || !strings.Contains(err.Error(), "METRICS_ADDR") {
					t.Fatalf("METRICS_ADDR=%q with HTTP_ADDR=%q: got %v, want a refusal naming METRICS_ADDR", tt.metrics, tt.http, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("METRICS_ADDR=%q with HTTP_ADDR=%q refused: %v", tt.metrics, tt.http, err)
			}
			if tt.metrics == "" && cfg.MetricsAddr != config.DefaultMetricsAddr {
				t.Errorf("default METRICS_ADDR = %q, want %q", cfg.MetricsAddr, config.DefaultMetricsAddr)
			}
			if cfg.MetricsEnabled() != (tt.metrics != "off") {
				t.Errorf("MetricsEnabled() = %v for %q", cfg.MetricsEnabled(), tt.metrics)
			}
		})
	}
}
