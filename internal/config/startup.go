package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Start-up that tells a newcomer what to fix, all at once: each problem is
// one line naming the variable and the expected form, and a value that may
// hold a password is never echoed.

// DatabaseURLExample is the expected form of DATABASE_URL.
const DatabaseURLExample = "postgres://bulwark_app:PASSWORD@db.example.com:5432/bulwark?sslmode=verify-full" //nolint:gosec // G101: the placeholder of an example, not a credential.

// productionProblems are the development conveniences production refuses,
// every one of them.
func (c Config) productionProblems() []error {
	var out []error
	add := func(msg string) { out = append(out, errors.New(msg)) }
	if c.DatabaseURL == "" {
		add("production needs DATABASE_URL: set it to the PostgreSQL connection string (" + DatabaseURLExample + ")")
	}
	if len(c.SigningKeys) == 0 {
		add("production needs JWT_SIGNING_KEYS: set it to kid:base64url-secret with at least 32 random bytes (openssl rand -base64 32)")
	}
	if c.SeedDemoData {
		add("production refuses SEED_DEMO_DATA: unset it (demo accounts have published passwords)")
	}
	if usesPublishedKey(c.SigningKeys) {
		add("production refuses the development signing key from .env.example: set JWT_SIGNING_KEYS to a freshly generated key")
	}
	if c.FileStorage == "local" && len(c.URLSigningKeys) == 0 {
		add("production needs URL_SIGNING_KEYS: set it to kid:base64url-secret with at least 32 random bytes (openssl rand -base64 32)")
	}
	if usesPublishedKey(c.URLSigningKeys) {
		add("production refuses a development key from .env.example in URL_SIGNING_KEYS: set it to a freshly generated key")
	}
	if c.FileStorage == "s3" && !c.S3.UseTLS {
		add("production refuses S3_USE_TLS=false: object data and credentials would cross the network in clear")
	}
	return out
}

// addressProblems checks HTTP_ADDR and the form of the database URLs up
// front, before anything is opened.
func (c Config) addressProblems() error {
	var out []error
	if _, port, err := net.SplitHostPort(c.HTTPAddr); err != nil || !validPort(port) {
		out = append(out, fmt.Errorf("HTTP_ADDR must be host:port, such as 127.0.0.1:8080 or :8080, not %q", c.HTTPAddr))
	}
	for name, v := range map[string]Secret{"DATABASE_URL": c.DatabaseURL, "MIGRATE_DATABASE_URL": c.MigrateDatabaseURL} {
		if v != "" && !wellFormedDatabaseURL(v.Reveal()) {
			// Never the value or the parser's error: both can hold the
			// password.
			out = append(out, fmt.Errorf("%s is not a PostgreSQL connection URL; expected the form %s", name, DatabaseURLExample))
		}
	}
	return errors.Join(out...)
}

func validPort(port string) bool {
	n, err := strconv.Atoi(port)
	return err == nil && n >= 0 && n <= 65535
}

// wellFormedDatabaseURL accepts a postgres:// URL with a host, or libpq's
// keyword=value form.
func wellFormedDatabaseURL(raw string) bool {
	if strings.HasPrefix(raw, "postgres://") || strings.HasPrefix(raw, "postgresql://") {
		u, err := url.Parse(raw)
		return err == nil && u.Host != ""
	}
	return strings.Contains(raw, "=") && !strings.Contains(raw, "://")
}
