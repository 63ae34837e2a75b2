package app

import (
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bulwark-dev/bulwark/internal/config"
	"github.com/bulwark-dev/bulwark/internal/outbound"
	"github.com/bulwark-dev/bulwark/internal/payments"
)

// importFetchConfig is the policy of the attach-from-URL client
// (docs/10-ssrf.md): the production defaults, plus the development-only
// settings config lets through outside production.
func importFetchConfig(cfg config.Config) outbound.FetchConfig {
	fc := outbound.DefaultFetchConfig(cfg.UploadMaxBytes)
	fc.AllowHTTP = cfg.Import.AllowHTTP
	fc.Allow = cfg.Import.AllowHosts
	if cfg.Import.DNSServer != "" {
		fc.Resolver = outbound.DNSResolver(cfg.Import.DNSServer)
	}
	return fc
}

// paymentsHandler wires the payment provider's two directions
// (docs/11-third-party-data.md): the client that creates payments, and the
// webhook that verifies the provider's events with every current secret.
func paymentsHandler(cfg config.Config, pool *pgxpool.Pool) (*payments.Handler, error) {
	provider, err := payments.NewProvider(cfg.Payments.ProviderURL)
	if err != nil {
		return nil, err
	}
	secrets := make([][]byte, 0, len(cfg.Payments.WebhookSecrets))
	for _, k := range cfg.Payments.WebhookSecrets {
		secrets = append(secrets, k.Secret)
	}
	return payments.NewHandler(payments.NewService(payments.NewStore(pool)), payments.NewVerifier(secrets), provider), nil
}
