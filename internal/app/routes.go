package app

import (
	"fmt"
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"

	"github.com/bulwark-dev/bulwark/internal/admin"
	"github.com/bulwark-dev/bulwark/internal/audit"
	"github.com/bulwark-dev/bulwark/internal/auth"
	"github.com/bulwark-dev/bulwark/internal/coupons"
	"github.com/bulwark-dev/bulwark/internal/files"
	"github.com/bulwark-dev/bulwark/internal/idempotency"
	"github.com/bulwark-dev/bulwark/internal/orders"
	"github.com/bulwark-dev/bulwark/internal/payments"
	"github.com/bulwark-dev/bulwark/internal/web"
)

type handlers struct {
	health  *healthHandler
	auth    *auth.Handler
	orders  *orders.Handler
	files   *files.Handler
	admin   *admin.Handler
	audit   *audit.Handler
	coupons *coupons.Handler
	// The third-party boundary (thirdparty.go).
	importer *files.ImportHandler
	payments *payments.Handler
}

// routes is the whole HTTP surface of the service, one row per route:
// method, path, the policy that says who may call it, the handler, and the
// route's own middleware. Reviewing who may call what means reading this
// function and the policies below it. The policy brings the middleware
// that enforces it (guard), so a row cannot say one thing and run
// another, and New refuses a row that declares no policy.
// importsInProgress bounds the file imports the instance runs at once: each
// holds an outbound connection for up to the fetcher's time limit and,
// with an Idempotency-Key, a pooled database connection as long. A quarter
// of the pool (at least one, at most four), so slow far servers never hold
// more than that of it: pgxpool's default on two cores is four connections.
func importsInProgress(pool *pgxpool.Pool) int {
	if pool == nil {
		return 1
	}
	return min(4, max(1, int(pool.Config().MaxConns)/4))
}

func routes(deps Deps, parts Parts, h handlers) []Route {
	var r table
	// The strict per-IP auth limit applies on top of the global one.
	authPerIP := web.RateLimit(parts.Limiter, parts.Limits.AuthPerIP, web.ByIP)
	passwordPerUser := web.RateLimit(parts.Limiter, parts.Limits.AuthPerIP, byUser)
	// Uploads take a multipart body up to UPLOAD_MAX_BYTES; the global
	// BODY_LIMIT_BYTES skips this one route (isUpload).
	uploadLimit := middleware.BodyLimit(deps.Config.UploadMaxBytes + multipartOverhead)
	// The dashboard's responses get the page's own CSP instead of the
	// API's (docs/07-nested-validation.md).
	page := web.PageHeaders()
	// The flows that move money or mint discounts need a second factor
	// checked in the last five minutes, whatever the session's age; and
	// the ones a retry must not repeat take an Idempotency-Key
	// (docs/12-business-flows.md).
	recentMFA := auth.RequireRecentMFA(auth.StepUpMaxAge)
	idempotent := parts.Idempotent(idempotency.Middleware(deps.Pool, auth.UserID))
	importSlots := web.Shed(importsInProgress(deps.Pool), nil)

	r.GET("/healthz", Public, h.health.live)
	r.GET("/readyz", Public, h.health.ready)

	// The API's own document; tests/openapi_test.go holds it equal to
	// this table.
	r.GET("/api/v1/openapi.yaml", Public, openAPI)

	// Refresh and logout are public to the router: the refresh token in
	// the body is the credential, and the handler checks it.
	r.POST("/api/v1/auth/register", Public, h.auth.Register, authPerIP)
	r.POST("/api/v1/auth/login", Public, h.auth.Login, authPerIP)
	r.POST("/api/v1/auth/refresh", Public, h.auth.Refresh, authPerIP)
	r.POST("/api/v1/auth/logout", Public, h.auth.Logout, authPerIP)

	// Sign out everywhere and a password change end every session of the
	// caller at once (internal/auth/sessions.go). The password change
	// checks a password with argon2id, so it gets the auth routes' strict
	// allowance, per account: a stolen access token cannot be used to
	// guess the password behind it faster than login allows.
	r.POST("/api/v1/auth/logout-all", Customer, h.auth.LogoutAll)

	// A second factor for any signed-in account. Every password or code
	// tried here spends from the account's login allowance and backoff
	// (auth.Handler.attempt), stricter than the per-address auth limit,
	// which the token already replaces with the per-user one.
	r.POST("/api/v1/auth/mfa/enroll", Customer, h.auth.EnrollMFA)
	r.POST("/api/v1/auth/mfa/confirm", Customer, h.auth.ConfirmMFA)
	r.POST("/api/v1/auth/mfa/step-up", Customer, h.auth.StepUp)

	r.GET("/api/v1/users/me", Customer, h.auth.Me)
	r.PATCH("/api/v1/users/me", Customer, h.auth.UpdateMe)
	r.POST("/api/v1/users/me/password", Customer, h.auth.ChangePassword, passwordPerUser)
	r.GET("/api/v1/products", Customer, h.orders.ListProducts)
	r.POST("/api/v1/orders", Customer, h.orders.Create, idempotent)
	r.GET("/api/v1/orders", Customer, h.orders.List)

	r.GET("/api/v1/orders/:id", OrderOwner, h.orders.Get)
	r.PATCH("/api/v1/orders/:id", OrderOwner, h.orders.Update)
	r.POST("/api/v1/orders/:id/cancel", OrderOwner, h.orders.Cancel)
	r.POST(uploadPath, OrderOwner, h.files.Upload, uploadLimit)
	r.GET("/api/v1/orders/:id/files", OrderOwner, h.files.ListForOrder)

	r.GET("/api/v1/files/:id", FileOwner, h.files.Get)
	r.GET("/api/v1/files/:id/download-url", FileOwner, h.files.DownloadURL)
	r.DELETE("/api/v1/files/:id", FileOwner, h.files.Delete)

	// The third-party boundary. Attach a file from a URL: the server
	// fetches what the customer names, so every connection is checked at
	// dial time (docs/10-ssrf.md). Pay: a payment of the order's total is
	// created at the provider; only the provider's signed webhook marks
	// the order paid (docs/11-third-party-data.md).
	//
	// An import is retried like an order (a client that lost the answer
	// must not attach the file twice), so it takes an Idempotency-Key;
	// with one, the request holds a database connection for as long as
	// its fetch runs (internal/idempotency). importSlots bounds the
	// imports in progress, so slow far servers cannot take the pool: the
	// excess is told to retry at once (503, Retry-After), never queued.
	r.POST("/api/v1/orders/:id/files/import", OrderOwner, h.importer.Import, importSlots, idempotent)
	r.POST("/api/v1/orders/:id/pay", OrderOwner, h.payments.Pay)
	r.POST("/api/v1/webhooks/payments", SignedWebhook, h.payments.Webhook)

	r.GET(DownloadPath, SignedLink, h.files.Download)

	r.GET("/api/v1/admin/orders", Staff, h.admin.ListOrders)
	r.PATCH("/api/v1/admin/orders/:id", StaffOrder, h.admin.UpdateOrder)
	r.POST("/api/v1/admin/orders/:id/refund", StaffOrder, h.admin.Refund, recentMFA, idempotent)
	r.GET("/api/v1/admin/orders/:id/refunds", StaffOrder, h.admin.Refunds)
	r.GET("/api/v1/admin/coupons", Staff, h.coupons.List)
	r.POST("/api/v1/admin/coupons", Staff, h.coupons.Create, recentMFA)
	r.GET("/api/v1/admin/reports/mfa", Staff, h.auth.MFAReport)
	// The trail of staff actions, read-only: no route writes or deletes a
	// row (internal/audit).
	r.GET("/api/v1/admin/audit", Staff, h.audit.List)

	// The page signs in through the login route and reads orders through
	// the staff routes above, so every order it shows has passed the
	// Staff policy.
	r.GET("/admin/", Page, admin.DashboardFile("index.html"), page)
	r.GET("/admin/app.js", Page, admin.DashboardFile("app.js"), page)
	r.GET("/admin/render.js", Page, admin.DashboardFile("render.js"), page)
	r.GET("/admin/app.css", Page, admin.DashboardFile("app.css"), page)

	// A path no row matches is refused as its neighbours are: without a
	// token 401, under /api/v1/admin without the role 403, and only then
	// 404, so probing without credentials learns nothing about which paths
	// exist. A known path with another method is such a path too.
	r.otherwise("/api/v1", Customer, deps.Pool)
	r.otherwise("/api/v1/admin", Staff, deps.Pool)
	return r.rows
}

// A Policy says who may call a route. The zero Policy is no declaration,
// and New refuses a route that has it.
type Policy uint8

const (
	_ Policy = iota
	// Public routes answer anyone.
	Public
	// SignedLink routes answer anyone who holds a valid signed link: the
	// handler checks the signature, which is the permission
	// (docs/06-file-access.md).
	SignedLink
	// SignedWebhook routes answer a third party that signs each delivery
	// with a shared secret: the handler checks the signature over the raw
	// body before it reads a field (docs/11-third-party-data.md).
	SignedWebhook
	// Page routes serve the staff dashboard's files to anyone: they are
	// embedded in the binary and hold no data.
	Page
	// Customer routes need a valid access token, of any account.
	Customer
	// OrderOwner routes are Customer routes on the order named by {id},
	// which must be the caller's: another customer's order is the same 404
	// as a missing one, before the handler runs (docs/01-bola.md).
	OrderOwner
	// FileOwner routes are Customer routes on the caller's own file {id},
	// refused like OrderOwner's.
	FileOwner
	// Staff routes need an access token of an account whose role is admin.
	// The role is re-read from the database on each request, so a demoted
	// admin is refused at once; anything else is denied (docs/bfla.md).
	Staff
	// StaffOrder routes are Staff routes on the order named by {id}, any
	// customer's, loaded before the handler runs: a malformed or missing
	// id is a 404 there.
	StaffOrder
)

// String is the policy's name, as the table writes it.
func (p Policy) String() string {
	switch p {
	case Public:
		return "Public"
	case SignedLink:
		return "SignedLink"
	case SignedWebhook:
		return "SignedWebhook"
	case Page:
		return "Page"
	case Customer:
		return "Customer"
	case OrderOwner:
		return "OrderOwner"
	case FileOwner:
		return "FileOwner"
	case Staff:
		return "Staff"
	case StaffOrder:
		return "StaffOrder"
	}
	return fmt.Sprintf("Policy(%d)", uint8(p))
}

// resolvesID reports whether p loads the resource named by the path's {id}
// before the handler runs, for the caller or for staff.
func (p Policy) resolvesID() bool {
	return p == OrderOwner || p == FileOwner || p == StaffOrder
}

// middlewares are what the policies are enforced with.
type middlewares struct {
	authenticate echo.MiddlewareFunc
	ownedOrder   echo.MiddlewareFunc
	ownedFile    echo.MiddlewareFunc
	requireAdmin echo.MiddlewareFunc
	staffOrder   echo.MiddlewareFunc
	perUser      echo.MiddlewareFunc
	misses       echo.MiddlewareFunc
}

// guard returns the middleware that enforces p, outermost first. Every
// route behind a token is limited per user as soon as the token names the
// user, before the role check and the resolvers reach the database.
func (mw middlewares) guard(p Policy) ([]echo.MiddlewareFunc, bool) {
	signedIn := []echo.MiddlewareFunc{mw.authenticate, mw.perUser}
	switch p {
	case Public, SignedLink, SignedWebhook, Page:
		return nil, true
	case Customer:
		return signedIn, true
	// The misses limit wraps each {id} resolver: a caller who keeps asking
	// for ids that are not theirs is probing, and is slowed (LimitMisses).
	case OrderOwner:
		return append(signedIn, mw.misses, mw.ownedOrder), true
	case FileOwner:
		return append(signedIn, mw.misses, mw.ownedFile), true
	case Staff:
		return append(signedIn, mw.requireAdmin), true
	case StaffOrder:
		return append(signedIn, mw.requireAdmin, mw.misses, mw.staffOrder), true
	}
	return nil, false
}

// stack is the middleware every request passes before its route's own.
//
// Order matters: the request id first so every later line can carry it,
// security events included; the logger and the metrics outside Recover so
// a panic is logged and counted as the 500 it becomes;
// headers before the handler so error responses carry them too.
// The per-IP limit runs before CORS, which answers preflights itself.
// Load shedding comes after the per-IP limit, so one flooding client is
// answered 429 without taking the slots everyone else needs; the
// deadline and the 503 mapping of database outages are inside the
// logger, so the log line shows the status the client gets.
func stack(deps Deps, parts Parts) []echo.MiddlewareFunc {
	return []echo.MiddlewareFunc{
		web.RequestIDMiddleware(),
		web.SecurityEvents(deps.Events),
		web.RequestLogger(deps.Logger),
		deps.Metrics.Middleware(),
		middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true}),
		web.SecurityHeaders(),
		unlessProbe(web.RateLimit(parts.Limiter, parts.Limits.PerIP, web.ByIP)),
		web.Shed(deps.Config.MaxInFlight, isLiveness),
		web.Deadline(deps.Config.RequestTimeout, deps.Config.ReadTimeout-deps.Config.ReadHeaderTimeout, isTransfer),
		databaseUnavailable,
		auth.RefuseEndedSessions,
		parts.CORS,
		middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{LimitBytes: deps.Config.BodyLimitBytes, Skipper: isUpload}),
	}
}

// uploadPath takes a multipart body up to UPLOAD_MAX_BYTES; the envelope
// (boundaries, part headers) gets multipartOverhead on top.
const (
	uploadPath        = "/api/v1/orders/:id/files"
	multipartOverhead = 64 << 10
)

func isUpload(c *echo.Context) bool {
	return c.Request().Method == http.MethodPost && c.Path() == uploadPath
}

// isLiveness exempts the liveness probe from load shedding: a busy
// instance is alive, and must not be restarted for being busy.
func isLiveness(c *echo.Context) bool { return c.Path() == "/healthz" }

// isTransfer picks the routes that move files: their deadlines grow with
// the file's size (internal/files/handler.go), so the request deadline
// would cut off a large transfer that is going well.
func isTransfer(c *echo.Context) bool { return isUpload(c) || c.Path() == DownloadPath }

// byUser keys the per-user limit; it runs after authenticate.
func byUser(c *echo.Context) string { return "user:" + auth.UserID(c).String() }
