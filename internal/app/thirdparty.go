package app

import (
	"github.com/bulwark-dev/bulwark/internal/config"
	"github.com/bulwark-dev/bulwark/internal/outbound"
)

// importFetchConfig is the policy of the attach-from-URL client
// (docs/10-ssrf.md): the production defaults, plus the development-only
// settings config lets through outside production.
func importFetchConfig(cfg config.Config) outbound.FetchConfig {
	fc := outbound.DefaultFetchConfig(cfg.UploadMaxBytes)
	fc.AllowHTTP = cfg.Import.AllowHTTP
	fc.Allow = cfg.Import.AllowHosts
	if cfg.Import.DNSServer.IsValid() {
		fc.Resolver = outbound.DNSResolver(cfg.Import.DNSServer)
	}
	return fc
}
