package app

import (
	"net/http"

	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"

	"github.com/bulwark-dev/bulwark/internal/admin"
	"github.com/bulwark-dev/bulwark/internal/auth"
	"github.com/bulwark-dev/bulwark/internal/files"
	"github.com/bulwark-dev/bulwark/internal/orders"
	"github.com/bulwark-dev/bulwark/internal/payments"
	"github.com/bulwark-dev/bulwark/internal/web"
)

type handlers struct {
	health *healthHandler
	auth   *auth.Handler
	orders *orders.Handler
	files  *files.Handler
	admin  *admin.Handler
	// The third-party boundary (thirdparty.go).
	importer *files.ImportHandler
	payments *payments.Handler
}

type middlewares struct {
	authenticate echo.MiddlewareFunc
	ownedOrder   echo.MiddlewareFunc
	ownedFile    echo.MiddlewareFunc
	requireAdmin echo.MiddlewareFunc
}

// routes is the whole HTTP surface of the service. Reviewing who may call
// what means reading this function: every route is here, with the
// middleware that guards it. A route without authenticate is public on
// purpose.
func routes(e *echo.Echo, deps Deps, parts Parts, h handlers, mw middlewares) {
	perIP := web.RateLimit(parts.Limiter, parts.Limits.PerIP, web.ByIP)
	authPerIP := web.RateLimit(parts.Limiter, parts.Limits.AuthPerIP, web.ByIP)
	perUser := web.RateLimit(parts.Limiter, parts.Limits.PerUser, byUser)
	// wrap marks the routes whose handler is itself a part (Parts.Wrap):
	// the secure build registers the handler as it is, the workshop build
	// swaps in a variant per request.
	wrap := parts.Wrap

	// Order matters: the request id first so every later line can carry it;
	// the logger outside Recover so a panic is logged as the 500 it becomes;
	// headers before the handler so error responses carry them too.
	// The per-IP limit runs before CORS, which answers preflights itself.
	// Load shedding comes after the per-IP limit, so one flooding client is
	// answered 429 without taking the slots everyone else needs; the
	// deadline and the 503 mapping of database outages are inside the
	// logger, so the log line shows the status the client gets.
	e.Use(
		web.RequestIDMiddleware(),
		web.RequestLogger(deps.Logger),
		middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true}),
		web.SecurityHeaders(),
		perIP,
		web.Shed(deps.Config.MaxInFlight, isLiveness),
		web.Deadline(deps.Config.RequestTimeout, deps.Config.ReadTimeout-deps.Config.ReadHeaderTimeout, isTransfer),
		databaseUnavailable,
		parts.CORS,
		// Uploads have their own, larger limit on their route below.
		middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{LimitBytes: deps.Config.BodyLimitBytes, Skipper: isUpload}),
	)

	e.GET("/healthz", h.health.live)
	e.GET("/readyz", h.health.ready)

	v1 := e.Group("/api/v1")

	// Public: the API's own OpenAPI document (api/openapi.yaml), which
	// tests/openapi_test.go holds equal to this file's routes.
	v1.GET("/openapi.yaml", openAPI)

	// Public: the strict per-IP auth limit applies on top of the global one.
	v1.POST("/auth/register", wrap("POST /auth/register", h.auth.Register), authPerIP)
	v1.POST("/auth/login", h.auth.Login, authPerIP)
	v1.POST("/auth/refresh", h.auth.Refresh, authPerIP)
	v1.POST("/auth/logout", h.auth.Logout, authPerIP)

	// Authenticated: the bearer token is checked first, then the user's limit.
	user := v1.Group("", mw.authenticate, perUser)
	user.GET("/users/me", wrap("GET /users/me", h.auth.Me))
	user.PATCH("/users/me", wrap("PATCH /users/me", h.auth.UpdateMe))
	user.GET("/products", h.orders.ListProducts)
	user.POST("/orders", h.orders.Create)
	user.GET("/orders", wrap("GET /orders", h.orders.List))
	// Every {id} route resolves the order for the caller first: another
	// customer's order is a 404 before the handler runs (docs/01-bola.md).
	user.GET("/orders/:id", h.orders.Get, mw.ownedOrder)
	user.PATCH("/orders/:id", h.orders.Update, mw.ownedOrder)
	user.POST("/orders/:id/cancel", h.orders.Cancel, mw.ownedOrder)
	user.POST(uploadRoute, h.files.Upload, mw.ownedOrder, middleware.BodyLimit(deps.Config.UploadMaxBytes+multipartOverhead))
	user.GET("/orders/:id/files", h.files.ListForOrder, mw.ownedOrder)
	user.GET("/files/:id", h.files.Get, mw.ownedFile)
	user.GET("/files/:id/download-url", h.files.DownloadURL, mw.ownedFile)
	user.DELETE("/files/:id", h.files.Delete, mw.ownedFile)

	// The third-party boundary. Attach a file from a URL: the server
	// fetches what the customer names, so every connection is checked at
	// dial time (docs/10-ssrf.md).
	user.POST("/orders/:id/files/import", wrap("POST /orders/:id/files/import", h.importer.Import), mw.ownedOrder)
	// Pay: a payment of the order's total is created at the provider;
	// only the provider's signed webhook marks the order paid. The webhook
	// is public on purpose: its signature is the permission
	// (docs/11-third-party-data.md); limited per IP like every route.
	user.POST("/orders/:id/pay", h.payments.Pay, mw.ownedOrder)
	v1.POST("/webhooks/payments", wrap("POST /webhooks/payments", h.payments.Webhook))

	// Public, because the signature in the link is the permission
	// (docs/06-file-access.md); limited per IP like every route.
	e.GET(DownloadPath, wrap("GET /downloads", h.files.Download))

	// Staff: deny by default. The role is re-read from the database on each
	// request, so a demoted admin is refused at once (docs/bfla.md).
	staff := v1.Group("/admin", mw.authenticate, perUser, mw.requireAdmin)
	staff.GET("/orders", h.admin.ListOrders)
	staff.PATCH("/orders/:id", h.admin.UpdateOrder)

	// The staff dashboard: a page and its files, embedded in the binary.
	// Public on purpose: they hold no data. The page signs in through the
	// login route and reads orders through the staff routes above, so every
	// order it shows has passed RequireRole. PageHeaders gives these
	// responses the page's own CSP instead of the API's
	// (docs/07-nested-validation.md).
	page := web.PageHeaders()
	e.GET("/admin/", wrap("GET /admin/", admin.DashboardFile("index.html")), page)
	e.GET("/admin/app.js", admin.DashboardFile("app.js"), page)
	e.GET("/admin/render.js", wrap("GET /admin/render.js", admin.DashboardFile("render.js")), page)
	e.GET("/admin/app.css", admin.DashboardFile("app.css"), page)
}

// uploadRoute takes a multipart body up to UPLOAD_MAX_BYTES; the envelope
// (boundaries, part headers) gets multipartOverhead on top.
const (
	uploadRoute       = "/orders/:id/files"
	multipartOverhead = 64 << 10
)

func isUpload(c *echo.Context) bool {
	return c.Request().Method == http.MethodPost && c.Path() == "/api/v1"+uploadRoute
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
