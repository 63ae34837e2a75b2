// Package app assembles the service: it builds the echo instance from the
// configuration and its parts, lists every route (routes.go), runs the
// HTTP server, and implements the api command (run.go).
package app

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v5"

	"github.com/bulwark-dev/bulwark/internal/admin"
	"github.com/bulwark-dev/bulwark/internal/audit"
	"github.com/bulwark-dev/bulwark/internal/auth"
	"github.com/bulwark-dev/bulwark/internal/config"
	"github.com/bulwark-dev/bulwark/internal/coupons"
	"github.com/bulwark-dev/bulwark/internal/files"
	"github.com/bulwark-dev/bulwark/internal/files/localfs"
	"github.com/bulwark-dev/bulwark/internal/files/s3store"
	"github.com/bulwark-dev/bulwark/internal/orders"
	"github.com/bulwark-dev/bulwark/internal/outbound"
	"github.com/bulwark-dev/bulwark/internal/web"
	"github.com/bulwark-dev/bulwark/internal/web/metrics"
	"github.com/bulwark-dev/bulwark/internal/web/redislimit"
	"github.com/bulwark-dev/bulwark/internal/web/secevent"
)

// Parts are the swappable pieces of the HTTP stack. The secure build uses
// SecureParts; the workshop build decorates each with a switch between it
// and its vulnerable or naive variants (workshop_on.go). A part New builds
// itself, the order lookup or a route's handler, is a decorator of it
// here, func(T) T, which New applies. Secure code never checks which it
// got: there is no "if vulnerable" anywhere outside internal/workshop.
type Parts struct {
	// OrderFinder decorates the lookup orders.ResolveOwned runs for {id}
	// before an order handler: the service's own, scoped to the caller in
	// the SQL. The secure build's returns it unchanged.
	OrderFinder func(orders.OwnedFinder) orders.OwnedFinder
	// Idempotent decorates the Idempotency-Key middleware of the routes
	// that take one (internal/idempotency). The secure build's returns it
	// unchanged.
	Idempotent   func(echo.MiddlewareFunc) echo.MiddlewareFunc
	Binder       echo.Binder
	ErrorHandler echo.HTTPErrorHandler
	CORS         echo.MiddlewareFunc
	IPExtractor  echo.IPExtractor
	Scheme       echo.SchemeExtractor
	Limiter      web.Limiter
	Limits       Limits
	// Handlers decorate single routes' handlers, keyed by the route
	// (Route.Key: "GET /api/v1/orders"). The secure build has none; the
	// workshop build switches a few handlers to variants of them. New
	// refuses a key that is no route.
	Handlers map[string]echo.MiddlewareFunc
}

// SecureParts returns the parts of the default build, around the limiter
// chosen by configuration (NewLimiter).
func SecureParts(cfg config.Config, logger *slog.Logger, limiter web.Limiter) Parts {
	ip, scheme := web.ClientIP(cfg.TrustedProxies)
	return Parts{
		OrderFinder:  func(find orders.OwnedFinder) orders.OwnedFinder { return find },
		Idempotent:   func(secure echo.MiddlewareFunc) echo.MiddlewareFunc { return secure },
		Binder:       web.StrictJSONBinder{Validator: web.NewValidator()},
		ErrorHandler: web.ErrorHandler(logger),
		CORS:         web.CORS(cfg.CORSAllowedOrigins),
		IPExtractor:  ip,
		Scheme:       scheme,
		Limiter:      limiter,
		Limits:       DefaultLimits(),
	}
}

// Deps are the long-lived resources the handlers need.
type Deps struct {
	Config  config.Config
	Logger  *slog.Logger
	Pool    *pgxpool.Pool
	Hasher  *auth.Hasher
	Storage files.Storage
	// Metrics and Events are what an operator watches (metrics.go); nil
	// measures and reports nothing (Routes, tests that need neither).
	Metrics *metrics.Metrics
	Events  *secevent.Emitter
}

// New assembles the service's HTTP handler from deps and parts. It fails
// when the route table does not pass register's checks, so a server with
// a route that declares no policy never starts.
func New(deps Deps, parts Parts) (*echo.Echo, error) {
	// Every limit's decisions are counted, whichever limiter the parts hold.
	parts.Limiter = deps.Metrics.Limiter(parts.Limiter)
	e := echo.NewWithConfig(echo.Config{
		Logger:           deps.Logger,
		HTTPErrorHandler: parts.ErrorHandler,
		Binder:           parts.Binder,
		IPExtractor:      parts.IPExtractor,
		SchemeExtractor:  parts.Scheme,
	})

	tokens, err := auth.NewTokens(deps.Config.SigningKeys, deps.Config.TokenIssuer, deps.Config.TokenAudience, deps.Config.AccessTokenTTL)
	if err != nil {
		return nil, err
	}
	authStore := auth.NewStore(deps.Pool)
	// Cursor MACs get their own keys, derived from the signing keys: the
	// first signs, all verify, so rotating the token key does not break
	// pagination in progress.
	secrets := make([][]byte, 0, len(deps.Config.SigningKeys))
	for _, k := range deps.Config.SigningKeys {
		secrets = append(secrets, k.Secret)
	}
	cursors := orders.NewCursors(secrets...)
	orderService := orders.NewService(orders.NewStore(deps.Pool), cursors)
	fileService := files.NewService(files.NewStore(deps.Pool), deps.Storage, files.Limits{
		MaxBytes: deps.Config.UploadMaxBytes, FilesPerOrder: deps.Config.MaxFilesPerOrder, LinkTTL: deps.Config.DownloadURLTTL,
		MaxConcurrent: maxConcurrentUploads,
		Quota:         files.Quota{Bytes: deps.Config.StorageQuotaBytes, Files: deps.Config.StorageQuotaFiles},
	})
	pay, err := paymentsHandler(deps.Config, deps.Pool)
	if err != nil {
		return nil, err
	}
	h := handlers{
		health: &healthHandler{pool: deps.Pool},
		auth: auth.NewHandler(
			auth.NewService(authStore, deps.Hasher, tokens, deps.Config.RefreshTokenTTL),
			parts.Limiter, parts.Limits.LoginPerAccount, parts.Limits.LoginBackoff),
		orders:  orders.NewHandler(orderService).LimitCoupons(parts.Limiter, parts.Limits.CouponPerAccount, parts.Limits.CouponPerAddress),
		files:   files.NewHandler(fileService),
		admin:   admin.NewHandler(admin.NewService(admin.NewStore(deps.Pool), cursors)),
		audit:   audit.NewHandler(audit.NewStore(deps.Pool)),
		coupons: coupons.NewHandler(coupons.NewService(coupons.NewStore(deps.Pool))),

		// The third-party boundary (thirdparty.go).
		importer: files.NewImportHandler(fileService, outbound.NewFetcher(importFetchConfig(deps.Config))),
		payments: pay,
	}
	mw := middlewares{
		authenticate: auth.Authenticate(tokens),
		ownedOrder:   orders.ResolveOwned(parts.OrderFinder(orderService)),
		ownedFile:    files.ResolveOwned(fileService),
		requireAdmin: auth.RequireRole(auth.RoleAdmin, authStore),
		staffOrder:   h.admin.ResolveOrder,
		perUser:      web.RateLimit(parts.Limiter, parts.Limits.PerUser, byUser),
		misses:       web.LimitMisses(parts.Limiter, parts.Limits.Misses, byUser),
	}
	e.Use(stack(deps, parts)...)
	if err := register(e, routes(deps, parts, h), mw, parts.Handlers); err != nil {
		return nil, err
	}
	return e, nil
}

// DownloadPath is the signed download route of the local storage backend.
const DownloadPath = "/api/v1/downloads"

// maxConcurrentUploads bounds the uploads one instance runs at once.
const maxConcurrentUploads = 16

// OpenStorage returns the configured file storage backend. The local
// backend's signer is built here, once: it signs the links and checks them
// when they come back to the download route (Storage.VerifyDownload); the
// S3 backend's links are presigned by the store and never reach that route.
func OpenStorage(ctx context.Context, cfg config.Config) (files.Storage, func(), error) {
	if cfg.FileStorage == "s3" {
		bucket, err := s3store.New(ctx, s3store.Config{
			Endpoint: cfg.S3.Endpoint, Bucket: cfg.S3.Bucket, Region: cfg.S3.Region,
			AccessKey: cfg.S3.AccessKey.Reveal(), SecretKey: cfg.S3.SecretKey.Reveal(), UseTLS: cfg.S3.UseTLS,
		})
		if err != nil {
			return nil, nil, err
		}
		return bucket, func() {}, nil
	}
	signer, err := localfs.NewSigner(cfg.URLSigningKeys)
	if err != nil {
		return nil, nil, err
	}
	local, err := localfs.New(cfg.FileStorageDir, signer, DownloadPath)
	if err != nil {
		return nil, nil, err
	}
	return local, func() { _ = local.Close() }, nil
}

// NewLimiter returns the rate limiter RATE_LIMIT_STORE asks for: the
// in-memory one for a single instance, or Redis shared by the fleet, with
// the in-memory one as its fallback (docs/04-rate-limiting.md).
func NewLimiter(cfg config.Config, logger *slog.Logger) (web.Limiter, func(), error) {
	if cfg.RateLimitStore != "redis" {
		return web.NewMemoryLimiter(), func() {}, nil
	}
	client, err := redislimit.NewClient(cfg.RedisURL.Reveal())
	if err != nil {
		return nil, nil, err
	}
	shared := redislimit.New(client)
	return web.NewResilientLimiter(shared, web.NewMemoryLimiter(), logger), func() { _ = client.Close() }, nil
}
