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
	"github.com/bulwark-dev/bulwark/internal/web/secevent"
)

const usage = "usage: api [serve|migrate|seed|storage-gc [-apply] [-min-age 1h]]"

// Run is the api command. main passes the process's arguments, environment
// and streams; tests pass their own, which is how the black-box suite boots
// the real server in-process.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	command := "serve"
	if len(args) > 0 {
		command = args[0]
	}
	var gc files.GCOptions
	if command == "storage-gc" {
		var err error
		if gc, err = parseGC(args[1:], stdout); err != nil {
			return err
		}
	} else if len(args) > 1 {
		return errors.New(usage)
	}
	switch command {
	case "serve", "migrate", "seed", "storage-gc":
	case "-h", "--help", "help":
		_, _ = fmt.Fprintln(stdout, usage)
		return nil
	default:
		return fmt.Errorf("unknown command %q; %s", command, usage)
	}

	cfg, err := config.Load(getenv)
	if err != nil {
		refused(stdout, secevent.ReasonInvalidSetting)
		return fmt.Errorf("configuration: %w", err)
	}
	// Before anything starts: a refused setting must not cost a database.
	if err := checkWorkshopSettings(getenv, cfg); err != nil {
		refused(stdout, secevent.ReasonWorkshopSetting)
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

	logins, throwawayDir, stop, err := database(ctx, cfg, logger, stderr)
	if err != nil {
		return err
	}
	defer stop()
	cfg.DatabaseURL, cfg.MigrateDatabaseURL = config.Secret(logins.Service), config.Secret(logins.Owner)
	if throwawayDir != "" && getenv("FILE_STORAGE_DIR") == "" {
		// The demo database is thrown away on exit; so are its files.
		cfg.FileStorageDir = filepath.Join(throwawayDir, "files")
	}

	switch command {
	case "migrate":
		// As the owner: the service's role may not create or alter tables.
		return migrate(ctx, logins.Owner, logger)
	case "seed":
		return seedDemo(ctx, cfg, stdout)
	case "storage-gc":
		return storageGC(ctx, cfg, gc, logger)
	default:
		return runServer(ctx, cfg, getenv, logger, stdout, throwawayDir != "")
	}
}

// database returns the two logins to use: the service's (DATABASE_URL) and
// the tables' owner's (MIGRATE_DATABASE_URL, or DATABASE_URL when unset).
// With DATABASE_URL unset (development only; production refuses that in
// config) it starts a throwaway cluster from the local PostgreSQL binaries,
// creates both roles and a database owned by the owner, and migrates it,
// since nothing else will: the cluster lives only as long as this process.
func database(ctx context.Context, cfg config.Config, logger *slog.Logger, stderr io.Writer) (postgres.Logins, string, func(), error) {
	if cfg.DatabaseURL != "" {
		return postgres.Logins{Service: cfg.DatabaseURL.Reveal(), Owner: cfg.OwnerDatabaseURL().Reveal()}, "", func() {}, nil
	}
	c, err := cluster.Start(ctx, cluster.Options{Dir: cfg.DevDataDir, Logger: logger})
	if err != nil {
		if errors.Is(err, cluster.ErrNoBinaries) {
			_, _ = fmt.Fprintln(stderr, err.Error())
		}
		return postgres.Logins{}, "", nil, fmt.Errorf("start development database: %w", err)
	}
	stop := func() {
		if err := c.Stop(context.WithoutCancel(ctx)); err != nil {
			logger.Error("stop development database", "error", err)
		}
	}
	logins, err := postgres.ProvisionDatabase(ctx, c.URL("postgres"), "bulwark")
	if err == nil {
		err = migrate(ctx, logins.Owner, logger)
	}
	if err != nil {
		stop()
		return postgres.Logins{}, "", nil, err
	}
	return logins, c.Dir(), stop, nil
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

// openResources opens them on databaseURL; maintenance opens the pool in
// the maintenance scope, for the seed (postgres.Options).
func openResources(ctx context.Context, cfg config.Config, databaseURL string, maintenance bool) (resources, error) {
	pool, err := postgres.Open(ctx, databaseURL, postgres.Options{StatementTimeout: cfg.StatementTimeout(), Maintenance: maintenance})
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

// seedDemo loads the demo data as the tables' owner, in the maintenance
// scope: the demo rows belong to three accounts, one an admin, which no
// request's scope could write.
func seedDemo(ctx context.Context, cfg config.Config, stdout io.Writer) error {
	r, err := openResources(ctx, cfg, cfg.OwnerDatabaseURL().Reveal(), true)
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

func runServer(ctx context.Context, cfg config.Config, getenv func(string) string, logger *slog.Logger, stdout io.Writer, throwaway bool) error {
	r, err := openResources(ctx, cfg, cfg.DatabaseURL.Reveal(), false)
	if err != nil {
		return err
	}
	defer r.close()
	// Row-level security is the second wall behind every ownership check
	// in the SQL, and it binds only a role that owns nothing and may not
	// bypass it. Production refuses any other; development, whose tests
	// and tools may connect as a superuser, only says so.
	if err := postgres.CheckServiceRole(ctx, r.pool); err != nil {
		if cfg.IsProduction() {
			secevent.NewEmitter(logger).Emit(ctx, secevent.Event{Kind: secevent.ConfigRefused, Reason: secevent.ReasonDatabaseRole})
			return fmt.Errorf("production refuses this database login: %w", err)
		}
		logger.Warn("ROW-LEVEL SECURITY DOES NOT PROTECT THIS SERVER", "reason", err.Error())
	}
	var onListen func(string)
	if cfg.SeedDemoData {
		// A pool of the owner's for the seed alone, closed before serving:
		// the serving pool never holds the owner's power.
		owner, err := postgres.Open(ctx, cfg.OwnerDatabaseURL().Reveal(), postgres.Options{Maintenance: true})
		if err != nil {
			return err
		}
		accounts, err := seed.Demo(ctx, owner, r.hasher, r.storage)
		owner.Close()
		if err != nil {
			return err
		}
		onListen = func(addr string) { printDemoHelp(stdout, addr, accounts) }
	} else if throwaway {
		// A newcomer who ran `api serve` gets an empty database that
		// vanishes on exit; without a word they sign in, get 401, and
		// conclude the server is broken.
		onListen = func(addr string) { printEmptyDatabaseHint(stdout, addr) }
	}
	limiter, closeLimiter, err := NewLimiter(cfg, logger)
	if err != nil {
		return err
	}
	defer closeLimiter()
	m, events, err := observability(logger, r.pool, limiter)
	if err != nil {
		return err
	}
	stopMetrics, err := serveMetrics(ctx, cfg, m, logger)
	if err != nil {
		return err
	}
	defer stopMetrics()
	deps := Deps{Config: cfg, Logger: logger, Pool: r.pool, Hasher: r.hasher, Storage: r.storage, Metrics: m, Events: events}
	parts, addRoutes, closeWorkshop, err := applyWorkshop(ctx, getenv, deps, SecureParts(cfg, logger, limiter), stdout)
	if err != nil {
		return err
	}
	defer closeWorkshop()
	handler, err := New(deps, parts)
	if err != nil {
		return err
	}
	addRoutes(handler)
	return serve(ctx, cfg, handler, logger, onListen)
}

// refused records a refused start as a security event: a configuration
// that an attacker (or a hurried operator) weakened is stopped at start,
// and the log says so in the stream an operator watches. The reason only:
// the error, returned to main, names the setting; it is not repeated here
// because a malformed value could be a secret.
func refused(stdout io.Writer, reason secevent.Reason) {
	secevent.NewEmitter(NewLogger(stdout, "info")).Emit(context.Background(), secevent.Event{Kind: secevent.ConfigRefused, Reason: reason})
}

// printEmptyDatabaseHint tells the person who ran `api serve` with no
// DATABASE_URL what they are talking to and how to get something to see.
func printEmptyDatabaseHint(w io.Writer, addr string) {
	_, _ = fmt.Fprintf(w, "\nBulwark is serving on http://%s with an EMPTY throwaway database (it is deleted when this process stops).\n"+
		"  For demo accounts, orders and files: stop it and run `make demo`, or start it with SEED_DEMO_DATA=true.\n"+
		"  To keep your data: set DATABASE_URL (postgres://user:password@host:5432/dbname) and run `api migrate` once.\n\n", addr)
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
