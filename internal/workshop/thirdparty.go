//go:build workshop

package workshop

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/config"
	"github.com/bulwark-dev/bulwark/internal/files"
)

// ThirdParty switches the routes of the third-party boundary, like Wrap
// does the others: the import route by "ssrf" (ssrf.go), the payment
// webhook by "webhook" (webhook.go). next is the Wrap chain so far.
func ThirdParty(b *Board, pool *pgxpool.Pool, storage files.Storage, cfg config.Config, next func(string, echo.HandlerFunc) echo.HandlerFunc) func(string, echo.HandlerFunc) echo.HandlerFunc {
	// The variants store through the same file rules as the secure route.
	svc := files.NewService(files.NewStore(pool), storage, nil, files.Limits{
		MaxBytes: cfg.UploadMaxBytes, FilesPerOrder: cfg.MaxFilesPerOrder, LinkTTL: cfg.DownloadURLTTL, MaxConcurrent: 16,
	})
	secrets := make([][]byte, 0, len(cfg.Payments.WebhookSecrets))
	for _, k := range cfg.Payments.WebhookSecrets {
		secrets = append(secrets, k.Secret)
	}
	byRoute := map[string]struct {
		issue             string
		vulnerable, naive echo.HandlerFunc
	}{
		"POST /orders/:id/files/import": {"ssrf", files.NewImportHandler(svc, ssrfVulnerableFetcher(cfg.Import.DNSServer)).Import, files.NewImportHandler(svc, ssrfNaiveFetcher(cfg.Import.DNSServer)).Import},
		"POST /webhooks/payments":       {"webhook", webhookVulnerable(pool), webhookNaive(pool, secrets)},
	}
	return func(route string, h echo.HandlerFunc) echo.HandlerFunc {
		h = next(route, h)
		v, ok := byRoute[route]
		if !ok {
			return h
		}
		return func(c *echo.Context) error {
			switch b.Get(v.issue) {
			case Vulnerable:
				return v.vulnerable(c)
			case Naive:
				return v.naive(c)
			default:
				return h(c)
			}
		}
	}
}
