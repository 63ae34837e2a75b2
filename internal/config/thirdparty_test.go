package config_test

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulwark-dev/bulwark/internal/config"
)

// The import and payment settings: development conveniences load outside
// production, and production refuses each of them with one line naming it.
func TestLoadThirdPartySettings(t *testing.T) {
	cfg := mustLoad(t, map[string]string{
		"IMPORT_ALLOW_HTTP":    "true",
		"IMPORT_ALLOW_HOSTS":   "127.0.0.1:8081, [::ffff:127.0.0.2]:9000",
		"IMPORT_DNS_SERVER":    "127.0.0.1:5353",
		"PAYMENT_PROVIDER_URL": "http://127.0.0.1:8090",
	})
	want := config.ImportConfig{
		AllowHTTP:  true,
		AllowHosts: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:8081"), netip.MustParseAddrPort("127.0.0.2:9000")},
		DNSServer:  "127.0.0.1:5353",
	}
	if diff := cmp.Diff(want, cfg.Import, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
		t.Errorf("Import (-want +got):\n%s", diff)
	}
	if len(cfg.Payments.WebhookSecrets) != 1 || cfg.Payments.WebhookSecrets[0].ID != "dev" {
		t.Errorf("development without PAYMENT_WEBHOOK_SECRETS: %v, want the development secret", cfg.Payments.WebhookSecrets)
	}

	defaults := mustLoad(t, map[string]string{})
	if defaults.Import.AllowHTTP || len(defaults.Import.AllowHosts) > 0 || defaults.Import.DNSServer != "" || defaults.Payments.ProviderURL != "" {
		t.Errorf("defaults: %+v %+v, want https only, no allowlist, the system resolver, payments off", defaults.Import, defaults.Payments)
	}
}

func TestLoadThirdPartyRefusals(t *testing.T) {
	_, secret := newKey(t, "w1")
	tests := []struct {
		name   string
		prod   bool
		vars   map[string]string
		naming string
	}{
		{"allowlist in production", true, map[string]string{"IMPORT_ALLOW_HOSTS": "127.0.0.1:8081"}, "IMPORT_ALLOW_HOSTS"},
		{"http imports in production", true, map[string]string{"IMPORT_ALLOW_HTTP": "true"}, "IMPORT_ALLOW_HTTP"},
		{"provider without secrets in production", true, map[string]string{"PAYMENT_PROVIDER_URL": "https://api.provider.example"}, "PAYMENT_WEBHOOK_SECRETS"},
		{"published webhook secret in production", true, map[string]string{"PAYMENT_WEBHOOK_SECRETS": config.DevPaymentWebhookSecret}, "PAYMENT_WEBHOOK_SECRETS"},
		{"published secret under another kid", true, map[string]string{"PAYMENT_WEBHOOK_SECRETS": secret + ",other" + config.DevPaymentWebhookSecret[3:]}, "PAYMENT_WEBHOOK_SECRETS"},
		{"http provider in production", true, map[string]string{"PAYMENT_PROVIDER_URL": "http://127.0.0.1:8090", "PAYMENT_WEBHOOK_SECRETS": secret}, "PAYMENT_PROVIDER_URL"},
		{"http provider off loopback", false, map[string]string{"PAYMENT_PROVIDER_URL": "http://pay.example.com"}, "PAYMENT_PROVIDER_URL"},
		{"provider URL with credentials", false, map[string]string{"PAYMENT_PROVIDER_URL": "https://user:pw@pay.example.com"}, "PAYMENT_PROVIDER_URL"},
		{"provider URL not absolute", false, map[string]string{"PAYMENT_PROVIDER_URL": "pay.example.com"}, "PAYMENT_PROVIDER_URL"},
		{"allowlist entry without a port", false, map[string]string{"IMPORT_ALLOW_HOSTS": "127.0.0.1"}, "IMPORT_ALLOW_HOSTS"},
		{"allowlist entry a name", false, map[string]string{"IMPORT_ALLOW_HOSTS": "localhost:8081"}, "IMPORT_ALLOW_HOSTS"},
		{"DNS server a name", false, map[string]string{"IMPORT_DNS_SERVER": "dns.example:53"}, "IMPORT_DNS_SERVER"},
		{"weak webhook secret", false, map[string]string{"PAYMENT_WEBHOOK_SECRETS": "w1:c2VjcmV0"}, "PAYMENT_WEBHOOK_SECRETS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{}
			if tt.prod {
				vars = production(t)
			}
			for k, v := range tt.vars {
				vars[k] = v
			}
			_, err := config.Load(env(vars))
			assertOneLineNaming(t, err, tt.naming)
		})
	}
}

// Production with a provider and its secrets (two, rotating) starts.
func TestLoadProductionPayments(t *testing.T) {
	_, a := newKey(t, "w1")
	_, b := newKey(t, "w2")
	vars := production(t)
	vars["PAYMENT_PROVIDER_URL"] = "https://api.provider.example"
	vars["PAYMENT_WEBHOOK_SECRETS"] = a + "," + b
	cfg := mustLoad(t, vars)
	if len(cfg.Payments.WebhookSecrets) != 2 {
		t.Errorf("webhook secrets: %d, want 2", len(cfg.Payments.WebhookSecrets))
	}
}
