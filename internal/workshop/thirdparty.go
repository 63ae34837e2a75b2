//go:build workshop

package workshop

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/config"
	"github.com/bulwark-dev/bulwark/internal/files"
)

// ThirdPartyHandlers returns the decorators of the third-party boundary's
// routes, keyed like Handlers': the import route switched by "ssrf"
// (ssrf.go), the payment webhook by "webhook" (webhook.go).
func ThirdPartyHandlers(b *Board, pool *pgxpool.Pool, storage files.Storage, cfg config.Config) map[string]echo.MiddlewareFunc {
	// The variants store through the same file rules as the secure route.
	svc := files.NewService(files.NewStore(pool), storage, files.Limits{
		MaxBytes: cfg.UploadMaxBytes, FilesPerOrder: cfg.MaxFilesPerOrder, LinkTTL: cfg.DownloadURLTTL, MaxConcurrent: 16,
		Quota: files.Quota{Bytes: cfg.StorageQuotaBytes, Files: cfg.StorageQuotaFiles},
	})
	secrets := make([][]byte, 0, len(cfg.Payments.WebhookSecrets))
	for _, k := range cfg.Payments.WebhookSecrets {
		secrets = append(secrets, k.Secret)
	}
	return map[string]echo.MiddlewareFunc{
		"POST /api/v1/orders/:id/files/import": b.switched("ssrf",
			files.NewImportHandler(svc, ssrfVulnerableFetcher(cfg.Import.DNSServer)).Import,
			files.NewImportHandler(svc, ssrfNaiveFetcher(cfg.Import.DNSServer)).Import),
		"POST /api/v1/webhooks/payments": b.switched("webhook", webhookVulnerable(pool), webhookNaive(pool, secrets)),
	}
}
