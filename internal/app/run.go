package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bulwark-dev/bulwark/internal/auth"
	"github.com/bulwark-dev/bulwark/internal/config"
	"github.com/bulwark-dev/bulwark/internal/files"
	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/postgres/cluster"
	"github.com/bulwark-dev/bulwark/internal/seed"
)

const usage = "usage: api [serve|migrate|seed]"

// Run is the api command. main passes the process's arguments, environment
// and streams; tests pass their own, which is how the black-box suite boots
// the real server in-process.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	command := "serve"
	if len(args) > 0 {
		command = args[0]
	}
	if len(args) > 1 {
		return errors.New(usage)
	}
	switch command {
	case "serve", "migrate", "seed":
	case "-h", "--help", "help":
		_, _ = fmt.Fprintln(stdout, usage)
		return nil
	default:
		return fmt.Errorf("unknown command %q; %s", command, usage)
	}

	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	// Before anything starts: a refused setting must not cost a database.
	if err := checkWorkshopSettings(getenv, cfg); err != nil {
		return err
	}
	if command == "seed" && cfg.IsProduction() {
		return errors.New("seed refuses to run with APP_ENV=production: the demo accounts have published passwords")
	}
	logger := NewLogger(stdout, cfg.LogLevel)
	logger.Info("starting", "command", command, "config", cfg.String())
	if command == "serve" && !cfg.IsProduction() && !loopbackAddr(cfg.HTTPAddr) {
		logger.Warn("DEVELOPMENT MODE ON A NON-LOOPBACK ADDRESS: unless JWT_SIGNING_KEYS is set, tokens are signed with the key published in .env.example, so anyone who can reach this port can forge them; use APP_ENV=production for anything but a local demo",
			"http_addr", cfg.HTTPAddr)
	}

	databaseURL, throwawayDir, stop, err := database(ctx, cfg, logger, stderr)
	if err != nil {
		return err
	}
	defer stop()
	if throwawayDir != "" && getenv("FILE_STORAGE_DIR") == "" {
		// The demo database is thrown away on exit; so are its files.
		cfg.FileStorageDir = filepath.Join(throwawayDir, "files")
	}

	switch command {
	case "migrate":
		return migrate(ctx, databaseURL, logger)
	case "seed":
		return seedDemo(ctx, cfg, databaseURL, stdout)
	default:
		return runServer(ctx, cfg, getenv, databaseURL, logger, stdout)
	}
}

// database returns the URL to use. With DATABASE_URL unset (development
// only; production refuses that in config) it starts a throwaway cluster
// from the local PostgreSQL binaries and migrates it, since nothing else
// will: the cluster lives only as long as this process.
func database(ctx context.Context, cfg config.Config, logger *slog.Logger, stderr io.Writer) (string, string, func(), error) {
	if cfg.DatabaseURL != "" {
		return cfg.DatabaseURL.Reveal(), "", func() {}, nil
	}
	c, err := cluster.Start(ctx, cluster.Options{Dir: cfg.DevDataDir, Logger: logger})
	if err != nil {
		if errors.Is(err, cluster.ErrNoBinaries) {
			_, _ = fmt.Fprintln(stderr, err.Error())
		}
		return "", "", nil, fmt.Errorf("start development database: %w", err)
	}
	stop := func() {
		if err := c.Stop(context.WithoutCancel(ctx)); err != nil {
			logger.Error("stop development database", "error", err)
		}
	}
	url := c.URL("postgres")
	if err := migrate(ctx, url, logger); err != nil {
		stop()
		return "", "", nil, err
	}
	return url, c.Dir(), stop, nil
}

func migrate(ctx context.Context, databaseURL string, logger *slog.Logger) error {
	applied, err := postgres.Migrate(ctx, databaseURL)
	if err != nil {
		return err
	}
	logger.Info("migrated", "applied", applied)
	return nil
}

// resources are what serving and seeding both need: the database pool,
// the password hasher and the file storage.
type resources struct {
	pool    *pgxpool.Pool
	hasher  *auth.Hasher
	storage files.Storage
	close   func()
}

func openResources(ctx context.Context, cfg config.Config, databaseURL string) (resources, error) {
	pool, err := postgres.Open(ctx, databaseURL, postgres.Options{StatementTimeout: cfg.StatementTimeout()})
	if err != nil {
		return resources{}, err
	}
	hasher, err := auth.NewHasher(auth.OWASPParams(), cfg.HashConcurrency)
	if err != nil {
		pool.Close()
		return resources{}, err
	}
	storage, closeStorage, err := OpenStorage(ctx, cfg)
	if err != nil {
		pool.Close()
		return resources{}, err
	}
	return resources{pool: pool, hasher: hasher, storage: storage, close: func() { closeStorage(); pool.Close() }}, nil
}

func seedDemo(ctx context.Context, cfg config.Config, databaseURL string, stdout io.Writer) error {
	r, err := openResources(ctx, cfg, databaseURL)
	if err != nil {
		return err
	}
	defer r.close()
	accounts, err := seed.Demo(ctx, r.pool, r.hasher, r.storage)
	if err != nil {
		return err
	}
	printAccounts(stdout, accounts)
	return nil
}

func runServer(ctx context.Context, cfg config.Config, getenv func(string) string, databaseURL string, logger *slog.Logger, stdout io.Writer) error {
	r, err := openResources(ctx, cfg, databaseURL)
	if err != nil {
		return err
	}
	defer r.close()
	var onListen func(string)
	if cfg.SeedDemoData {
		accounts, err := seed.Demo(ctx, r.pool, r.hasher, r.storage)
		if err != nil {
			return err
		}
		onListen = func(addr string) { printDemoHelp(stdout, addr, accounts) }
	}
	limiter, closeLimiter, err := NewLimiter(cfg, logger)
	if err != nil {
		return err
	}
	defer closeLimiter()
	deps := Deps{Config: cfg, Logger: logger, Pool: r.pool, Hasher: r.hasher, Storage: r.storage}
	parts, addRoutes, err := applyWorkshop(ctx, getenv, deps, SecureParts(cfg, logger, limiter), stdout)
	if err != nil {
		return err
	}
	handler, err := New(deps, parts)
	if err != nil {
		return err
	}
	addRoutes(handler)
	return serve(ctx, cfg, handler, logger, onListen)
}

// printDemoHelp tells the person who ran `make demo` where to look.
func printDemoHelp(w io.Writer, addr string, accounts []seed.Account) {
	base := "http://" + addr
	var b strings.Builder
	fmt.Fprintf(&b, "\nBulwark is serving the seeded demo API on %s (Ctrl-C stops it and deletes the demo database).\n\n", base)
	printAccounts(&b, accounts)
	fmt.Fprintf(&b, "\nTry it:\n")
	// Each command fails loudly when a request is refused (curl -f, the
	// JWT check, ${TOKEN:?}): a silent empty token would show an
	// unrelated 401 later (README.md, "Try the defences by hand").
	fmt.Fprintf(&b, "  TOKEN=$(curl -fsS %s/api/v1/auth/login -H 'Content-Type: application/json' \\\n", base)
	fmt.Fprintf(&b, "    -d '{\"email\":\"%s\",\"password\":\"%s\"}' | jq -r '.access_token // empty')\n", accounts[0].Email, accounts[0].Password)
	b.WriteString("  case $TOKEN in ey*.*.*) ;; *) echo 'sign-in FAILED: no token (the error is above)' >&2 ;; esac\n")
	fmt.Fprintf(&b, "  curl -fsS %s/api/v1/users/me -H \"Authorization: Bearer ${TOKEN:?sign in first: TOKEN is empty}\"\n", base)
	fmt.Fprintf(&b, "  curl -fsS %s/readyz\n\n", base)
	_, _ = io.WriteString(w, b.String())
}

// printAccounts shows the demo logins. Their passwords are published in the
// README; real credentials are never printed.
func printAccounts(w io.Writer, accounts []seed.Account) {
	var b strings.Builder
	b.WriteString("Demo accounts (development only):\n")
	for _, a := range accounts {
		fmt.Fprintf(&b, "  %-8s %-20s password: %s\n", a.Role, a.Email, a.Password)
	}
	_, _ = io.WriteString(w, b.String())
}

// loopbackAddr reports whether host:port listens on loopback only.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
