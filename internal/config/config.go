// Package config reads the service's settings from the environment into a
// typed struct, validated once at start-up. A setting that is wrong stops the
// service with one line naming the variable to fix, instead of surfacing as a
// security hole at run time.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Environments the service knows. Anything else is refused, so a typo such as
// "prod" cannot silently fall back to development defaults.
const (
	Development = "development"
	Production  = "production"
)

// DevSigningKey is the token signing key that .env.example ships with. It is
// public by definition, so production refuses to start with it.
const DevSigningKey = "dev:ZGV2ZWxvcG1lbnQtb25seS1rZXktbmV2ZXItdXNlLWluLXByb2R1Y3Rpb24"

// DevURLSigningKey signs download URLs in development; like DevSigningKey it
// is published in .env.example and refused in production.
const DevURLSigningKey = "dev:ZGV2ZWxvcG1lbnQtb25seS11cmwta2V5LW5ldmVyLXVzZS1pbi1wcm9kdWN0aW9u"

// minKeyBytes is the HS256 key size: a key shorter than the hash output
// weakens HMAC-SHA256 (RFC 7518 section 3.2 requires at least 256 bits).
const minKeyBytes = 32

// Config is every setting of the service. Secrets are unexported-type values
// or masked by String, so printing a Config never prints a secret.
type Config struct {
	Env string
	// DatabaseURL is the service's login: a role that owns nothing, is no
	// superuser and has no BYPASSRLS, so row-level security binds it
	// (production refuses any other at start-up, internal/app/run.go).
	DatabaseURL Secret
	// MigrateDatabaseURL is the tables' owner, for `api migrate` and the
	// demo seed; empty means DatabaseURL (OwnerDatabaseURL). The serving
	// process needs it only in the workshop build.
	MigrateDatabaseURL Secret
	HTTPAddr           string
	// MetricsAddr is the Prometheus listener's, apart from the API's
	// (validateMetrics); "off" serves no metrics.
	MetricsAddr string

	// CORSAllowedOrigins is an exact-match allowlist; empty means no
	// cross-origin access at all.
	CORSAllowedOrigins []string
	// TrustedProxies are the only peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix

	// SigningKeys verify access tokens; SigningKeys[0] also signs new ones.
	// Keeping retired keys here lets tokens they signed expire naturally.
	SigningKeys     []SigningKey
	TokenIssuer     string
	TokenAudience   string
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration

	// HashConcurrency bounds concurrent argon2id computations: each needs
	// 19 MiB and a core's worth of time, so an unbounded login flood would
	// exhaust both.
	HashConcurrency int

	BodyLimitBytes  int64
	ShutdownTimeout time.Duration
	LogLevel        string

	// RequestTimeout is the deadline of every request's context (uploads
	// and downloads excepted: they get deadlines in proportion to their
	// size). Database statements are cut off a little before it
	// (StatementTimeout), so a request stuck on a lock or a slow query
	// answers 503 instead of holding a connection and a goroutine.
	RequestTimeout time.Duration
	// MaxInFlight bounds the requests served at once; the next one is
	// refused with 503 and Retry-After at once instead of queueing, so
	// overload costs latency for no admitted request (load shedding).
	MaxInFlight int
	// Server timeouts against slow clients (slowloris headers, trickled
	// bodies, idle keep-alive connections).
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	IdleTimeout       time.Duration

	// Files: where uploads are stored and how they are served.
	FileStorage      string // "local" or "s3"
	FileStorageDir   string
	S3               S3Config
	URLSigningKeys   []SigningKey // local backend's download links; [0] signs
	DownloadURLTTL   time.Duration
	UploadMaxBytes   int64
	MaxFilesPerOrder int
	// StorageQuotaBytes and StorageQuotaFiles bound what one customer
	// stores over all their orders (internal/files/gate.go).
	StorageQuotaBytes int64
	StorageQuotaFiles int

	// RateLimitStore is "memory" (one instance) or "redis" (a fleet sharing
	// REDIS_URL).
	RateLimitStore string
	RedisURL       Secret

	// The third-party boundary (thirdparty.go): attach a file from a URL,
	// and the payment provider.
	Import   ImportConfig
	Payments PaymentsConfig

	// SeedDemoData makes `serve` load the demo accounts at start (make demo).
	SeedDemoData bool
	// DevDataDir holds the throwaway development database cluster.
	DevDataDir string
}

// S3Config locates an S3-compatible bucket.
type S3Config struct {
	Endpoint  string // host:port
	Bucket    string
	Region    string
	AccessKey Secret
	SecretKey Secret
	UseTLS    bool
}

// SigningKey is one HMAC key, named by its key id.
type SigningKey struct {
	ID     string
	Secret []byte
}

// Secret is a string that prints masked.
type Secret string

// String masks the secret so that %v and %s never reveal it.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "*****"
}

// Reveal returns the secret itself; call it only where the value is used.
func (s Secret) Reveal() string { return string(s) }

// StatementTimeout is PostgreSQL's statement_timeout for the service's
// connections: nine tenths of REQUEST_TIMEOUT. The database gives up on a
// statement first, so the connection comes back healthy and the handler
// still has time to answer 503; were the request deadline first, the driver
// would drop the connection while the server kept running the statement
// (PostgreSQL does not notice a vanished client while it waits on a lock).
func (c Config) StatementTimeout() time.Duration { return c.RequestTimeout * 9 / 10 }

// OwnerDatabaseURL is the login of the tables' owner: MIGRATE_DATABASE_URL,
// or DATABASE_URL when that is unset (a single-login development setup).
func (c Config) OwnerDatabaseURL() Secret {
	if c.MigrateDatabaseURL != "" {
		return c.MigrateDatabaseURL
	}
	return c.DatabaseURL
}

// IsProduction reports whether the service runs in production mode.
func (c Config) IsProduction() bool { return c.Env == Production }

// Load reads and validates the configuration. getenv is os.Getenv in main and
// a map lookup in tests.
func Load(getenv func(string) string) (Config, error) {
	p := parser{getenv: getenv}
	cfg := Config{
		Env:                p.str("APP_ENV", Development),
		DatabaseURL:        Secret(p.str("DATABASE_URL", "")),
		MigrateDatabaseURL: Secret(p.str("MIGRATE_DATABASE_URL", "")),
		HTTPAddr:           p.str("HTTP_ADDR", "127.0.0.1:8080"),
		MetricsAddr:        p.str("METRICS_ADDR", DefaultMetricsAddr),
		CORSAllowedOrigins: p.origins("CORS_ALLOWED_ORIGINS"),
		TrustedProxies:     p.prefixes("TRUSTED_PROXIES"),
		TokenIssuer:        p.str("JWT_ISSUER", "bulwark"),
		TokenAudience:      p.str("JWT_AUDIENCE", "bulwark-api"),
		AccessTokenTTL:     p.duration("ACCESS_TOKEN_TTL", 10*time.Minute),
		RefreshTokenTTL:    p.duration("REFRESH_TOKEN_TTL", 30*24*time.Hour),
		HashConcurrency:    p.integer("PASSWORD_HASH_CONCURRENCY", runtime.NumCPU()),
		BodyLimitBytes:     int64(p.integer("BODY_LIMIT_BYTES", 1<<20)),
		ShutdownTimeout:    p.duration("SHUTDOWN_TIMEOUT", 20*time.Second),
		LogLevel:           p.str("LOG_LEVEL", "info"),
		RequestTimeout:     p.duration("REQUEST_TIMEOUT", 10*time.Second),
		MaxInFlight:        p.integer("MAX_IN_FLIGHT_REQUESTS", 256),
		ReadHeaderTimeout:  p.duration("HTTP_READ_HEADER_TIMEOUT", 5*time.Second),
		ReadTimeout:        p.duration("HTTP_READ_TIMEOUT", 30*time.Second),
		IdleTimeout:        p.duration("HTTP_IDLE_TIMEOUT", 90*time.Second),
		SeedDemoData:       p.boolean("SEED_DEMO_DATA", false),
		RateLimitStore:     p.str("RATE_LIMIT_STORE", "memory"),
		RedisURL:           Secret(p.str("REDIS_URL", "")),
		FileStorage:        p.str("FILE_STORAGE", "local"),
		FileStorageDir:     p.str("FILE_STORAGE_DIR", ".data/files"),
		S3: S3Config{
			Endpoint:  p.str("S3_ENDPOINT", ""),
			Bucket:    p.str("S3_BUCKET", ""),
			Region:    p.str("S3_REGION", "us-east-1"),
			AccessKey: Secret(p.str("S3_ACCESS_KEY", "")),
			SecretKey: Secret(p.str("S3_SECRET_KEY", "")),
			UseTLS:    p.boolean("S3_USE_TLS", true),
		},
		DownloadURLTTL:   p.duration("DOWNLOAD_URL_TTL", 2*time.Minute),
		UploadMaxBytes:   int64(p.integer("UPLOAD_MAX_BYTES", 10<<20)),
		MaxFilesPerOrder: p.integer("MAX_FILES_PER_ORDER", 10),
		// 100 MiB (or UPLOAD_MAX_BYTES, when larger) and 200 files per
		// customer by default.
		StorageQuotaBytes: int64(p.integer("STORAGE_QUOTA_BYTES", max(100<<20, p.integer("UPLOAD_MAX_BYTES", 10<<20)))),
		StorageQuotaFiles: p.integer("STORAGE_QUOTA_FILES", 200),
		DevDataDir:        p.str("DEV_DATA_DIR", ".data"),
	}
	cfg.SigningKeys = p.signingKeys("JWT_SIGNING_KEYS")
	if len(cfg.SigningKeys) == 0 && cfg.Env == Development {
		// Development works out of the box with the published key; the
		// production check below refuses this same key.
		cfg.SigningKeys = (&parser{getenv: func(string) string { return DevSigningKey }}).signingKeys("JWT_SIGNING_KEYS")
	}
	cfg.URLSigningKeys = p.signingKeys("URL_SIGNING_KEYS")
	if len(cfg.URLSigningKeys) == 0 && cfg.Env == Development {
		cfg.URLSigningKeys = (&parser{getenv: func(string) string { return DevURLSigningKey }}).signingKeys("URL_SIGNING_KEYS")
	}
	cfg.Import, cfg.Payments = p.thirdParty(cfg.Env)
	if p.err != nil {
		return Config{}, p.err
	}
	if err := errors.Join(cfg.addressProblems(), cfg.validate()); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func (c Config) validate() error {
	switch c.Env {
	case Development, Production:
	default:
		return fmt.Errorf("APP_ENV must be %q or %q, not %q", Development, Production, c.Env)
	}
	switch {
	case c.AccessTokenTTL < time.Minute || c.AccessTokenTTL > time.Hour:
		// Access tokens cannot be revoked before they expire, so their life
		// is kept short; refresh tokens carry the long session.
		return errors.New("ACCESS_TOKEN_TTL must be between 1m and 1h")
	case c.RefreshTokenTTL < time.Hour || c.RefreshTokenTTL > 90*24*time.Hour:
		return errors.New("REFRESH_TOKEN_TTL must be between 1h and 2160h (90 days)")
	case c.HashConcurrency < 1 || c.HashConcurrency > 64:
		return errors.New("PASSWORD_HASH_CONCURRENCY must be between 1 and 64")
	case c.BodyLimitBytes < 1<<10 || c.BodyLimitBytes > 64<<20:
		return errors.New("BODY_LIMIT_BYTES must be between 1024 and 67108864")
	case c.ShutdownTimeout < time.Second || c.ShutdownTimeout > 5*time.Minute:
		return errors.New("SHUTDOWN_TIMEOUT must be between 1s and 5m")
	case c.TokenIssuer == "" || c.TokenAudience == "":
		return errors.New("JWT_ISSUER and JWT_AUDIENCE must not be empty")
	}
	switch {
	case c.RequestTimeout < time.Second || c.RequestTimeout > 50*time.Second:
		// The upper bound keeps the 503 for a timed-out request inside the
		// server's 60 s write timeout, so the client always gets an answer.
		return errors.New("REQUEST_TIMEOUT must be between 1s and 50s")
	case c.MaxInFlight < 1 || c.MaxInFlight > 100000:
		return errors.New("MAX_IN_FLIGHT_REQUESTS must be between 1 and 100000")
	case c.ReadHeaderTimeout < 100*time.Millisecond || c.ReadHeaderTimeout > time.Minute:
		return errors.New("HTTP_READ_HEADER_TIMEOUT must be between 100ms and 1m")
	case c.ReadTimeout < c.ReadHeaderTimeout || c.ReadTimeout > 5*time.Minute:
		// ReadTimeout covers the headers too: below ReadHeaderTimeout it
		// would silently replace it.
		return errors.New("HTTP_READ_TIMEOUT must be at least HTTP_READ_HEADER_TIMEOUT and at most 5m")
	case c.IdleTimeout < time.Second || c.IdleTimeout > 10*time.Minute:
		return errors.New("HTTP_IDLE_TIMEOUT must be between 1s and 10m")
	}
	switch {
	case c.DownloadURLTTL < 10*time.Second || c.DownloadURLTTL > 5*time.Minute:
		// A download link is a bearer credential: it must die quickly.
		return errors.New("DOWNLOAD_URL_TTL must be between 10s and 5m")
	case c.UploadMaxBytes < 1<<10 || c.UploadMaxBytes > 1<<30:
		return errors.New("UPLOAD_MAX_BYTES must be between 1024 and 1073741824")
	case c.MaxFilesPerOrder < 1 || c.MaxFilesPerOrder > 100:
		return errors.New("MAX_FILES_PER_ORDER must be between 1 and 100")
	case c.StorageQuotaBytes < c.UploadMaxBytes || c.StorageQuotaBytes > 1<<40:
		return errors.New("STORAGE_QUOTA_BYTES must be at least UPLOAD_MAX_BYTES and at most 1099511627776")
	case c.StorageQuotaFiles < 1 || c.StorageQuotaFiles > 100000:
		return errors.New("STORAGE_QUOTA_FILES must be between 1 and 100000")
	}
	switch c.RateLimitStore {
	case "memory":
	case "redis":
		if c.RedisURL == "" {
			return errors.New("RATE_LIMIT_STORE=redis needs REDIS_URL (redis://host:6379/0)")
		}
	default:
		return errors.New(`RATE_LIMIT_STORE must be "memory" or "redis"`)
	}
	switch c.FileStorage {
	case "local":
		if c.FileStorageDir == "" {
			return errors.New("FILE_STORAGE_DIR must not be empty")
		}
	case "s3":
		if c.S3.Endpoint == "" || c.S3.Bucket == "" || c.S3.AccessKey == "" || c.S3.SecretKey == "" {
			return errors.New("FILE_STORAGE=s3 needs S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY and S3_SECRET_KEY")
		}
	default:
		return errors.New(`FILE_STORAGE must be "local" or "s3"`)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return errors.New("LOG_LEVEL must be one of debug, info, warn, error")
	}
	if err := c.validateThirdParty(); err != nil {
		return err
	}
	if err := c.validateMetrics(); err != nil {
		return err
	}
	if !c.IsProduction() {
		return nil
	}
	// Production refuses every development convenience rather than warning
	// about it: a warning in a log nobody reads protects nothing. Every
	// refusal is listed, one line each, so one start shows all there is
	// to fix (productionProblems, startup.go).
	return errors.Join(c.productionProblems()...)
}

// usesPublishedKey reports whether any key is one of the development keys.
// It compares the secret, not the kid: a published key under any other
// name is still public.
func usesPublishedKey(keys []SigningKey) bool {
	for _, k := range keys {
		for _, dev := range []string{DevSigningKey, DevURLSigningKey} {
			_, devSecret, _ := strings.Cut(dev, ":")
			if base64.RawURLEncoding.EncodeToString(k.Secret) == devSecret {
				return true
			}
		}
	}
	return false
}

// String prints the configuration with every secret masked, for the start-up
// log line.
func (c Config) String() string {
	kids := make([]string, 0, len(c.SigningKeys))
	for _, k := range c.SigningKeys {
		kids = append(kids, k.ID)
	}
	return fmt.Sprintf("env=%s http_addr=%s database_url=%s migrate_database_url=%s cors_allowed_origins=%v trusted_proxies=%v signing_key_ids=%v access_token_ttl=%s refresh_token_ttl=%s rate_limit_store=%s file_storage=%s",
		c.Env, c.HTTPAddr, maskURL(c.DatabaseURL.Reveal()), maskURL(c.MigrateDatabaseURL.Reveal()), c.CORSAllowedOrigins, c.TrustedProxies, kids, c.AccessTokenTTL, c.RefreshTokenTTL, c.RateLimitStore, c.FileStorage)
}

// maskURL keeps only what identifies the database (scheme, host, path) and
// drops everything that can carry a secret: user info, and query parameters
// such as password or sslpassword. A keyword/value DSN ("host=… password=…")
// is not a URL and is masked whole.
func maskURL(raw string) string {
	if raw == "" {
		return `""`
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		return "*****"
	}
	return u.Scheme + "://" + u.Host + u.Path
}

// parser collects the first error so Load reads as a list of settings.
type parser struct {
	getenv func(string) string
	err    error
}

// fail records a problem with the variable name; every one is kept, so a
// start lists all the settings to fix, one line each.
func (p *parser) fail(name, format string, args ...any) {
	p.err = errors.Join(p.err, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
}

func (p *parser) str(name, def string) string {
	if v := strings.TrimSpace(p.getenv(name)); v != "" {
		return v
	}
	return def
}

func (p *parser) integer(name string, def int) int {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		p.fail(name, "must be an integer")
	}
	return n
}

func (p *parser) boolean(name string, def bool) bool {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.fail(name, "must be true or false")
	}
	return b
}

func (p *parser) duration(name string, def time.Duration) time.Duration {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		p.fail(name, "must be a duration such as 15m or 720h")
	}
	return d
}

func (p *parser) list(name string) []string {
	var out []string
	for item := range strings.SplitSeq(p.getenv(name), ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// origins accepts only exact origins: scheme, host and optional port. A
// wildcard, "null", a path or a trailing slash is refused, because each turns
// the exact-match allowlist into something an attacker can satisfy.
func (p *parser) origins(name string) []string {
	var out []string
	for _, o := range p.list(name) {
		u, err := url.Parse(o)
		switch {
		case err != nil, o == "null", strings.Contains(o, "*"),
			u.Scheme != "https" && u.Scheme != "http",
			u.Host == "", u.User != nil, u.Path != "", u.RawQuery != "", u.Fragment != "":
			p.fail(name, "%q is not an exact origin such as https://app.example.com", o)
			continue
		}
		out = append(out, u.Scheme+"://"+strings.ToLower(u.Host))
	}
	return out
}

// prefixes parses the trusted proxy ranges. Trusting everyone would let any
// client choose its own IP through X-Forwarded-For, so 0.0.0.0/0 and ::/0
// are refused.
func (p *parser) prefixes(name string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range p.list(name) {
		if !strings.Contains(s, "/") {
			if a, err := netip.ParseAddr(s); err == nil {
				s = netip.PrefixFrom(a, a.BitLen()).String()
			}
		}
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			p.fail(name, "%q is not a CIDR range such as 10.0.0.0/8", s)
			continue
		}
		if pfx.Bits() == 0 {
			p.fail(name, "%q would trust every client's X-Forwarded-For", s)
			continue
		}
		out = append(out, pfx.Masked())
	}
	return out
}

// signingKeys parses "kid:base64url-secret,kid:base64url-secret"; the first
// key signs, all of them verify.
func (p *parser) signingKeys(name string) []SigningKey {
	var keys []SigningKey
	seen := map[string]bool{}
	for _, item := range p.list(name) {
		kid, encoded, ok := strings.Cut(item, ":")
		if !ok || kid == "" || len(kid) > 64 {
			p.fail(name, "each key must be kid:base64url-secret")
			continue
		}
		secret, err := decodeKey(encoded)
		if err != nil {
			// The value itself is a secret: name the key id, never the value.
			p.fail(name, "key %q is not valid base64", kid)
			continue
		}
		if weak(secret) {
			p.fail(name, "key %q is weak: use at least %d random bytes (openssl rand -base64 32)", kid, minKeyBytes)
			continue
		}
		if seen[kid] {
			p.fail(name, "key id %q appears twice", kid)
			continue
		}
		seen[kid] = true
		keys = append(keys, SigningKey{ID: kid, Secret: secret})
	}
	return keys
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// weak rejects short keys and keys with little variety, such as a password
// or a repeated character, which a random 32-byte key never is.
func weak(secret []byte) bool {
	if len(secret) < minKeyBytes {
		return true
	}
	distinct := map[byte]bool{}
	for _, b := range secret {
		distinct[b] = true
	}
	return len(distinct) < 12
}
