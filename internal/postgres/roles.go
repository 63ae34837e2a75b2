package postgres

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The two roles Bulwark runs as (docs/01-bola.md, "The second wall").
//
// The owner owns the tables: migrations run as it (MIGRATE_DATABASE_URL),
// and so does the demo seed. The service role owns nothing, is no superuser
// and has no BYPASSRLS, so row-level security applies to everything it
// runs; the service connects as it (DATABASE_URL), and the migrations grant
// it exactly the table privileges its code needs, by this name.
//
// Two logins, not one login that switches with SET ROLE: a session can
// always RESET ROLE, so a service that logs in as the owner holds the
// owner's power whatever role it switched to, and one bug away from using
// it. A login that is the service role has nothing more to reach for.
const (
	OwnerRole   = "bulwark_owner"
	ServiceRole = "bulwark_app"
)

// Logins are the connection URLs of one database for the two roles. They
// hold passwords: pass them on, never log them.
type Logins struct {
	Owner   string // MIGRATE_DATABASE_URL: migrations, seed
	Service string // DATABASE_URL: the service
}

// Execer runs a statement: a pool, a connection or a transaction.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Roles holds the passwords of the two roles on one server.
type Roles struct {
	owner, service string
}

// ProvisionRoles creates the owner and the service role through admin, a
// session of a superuser (or of a role with CREATEROLE), or resets their
// passwords and attributes when they exist. It is for throwaway servers and
// tests; a production database gets its roles once, from whoever runs it
// (docs/01-bola.md shows the statements).
//
// The passwords are derived from secret, so that several test binaries
// sharing one server agree on them instead of changing them under each
// other; give it something only the caller knows, such as the admin's own
// password.
func ProvisionRoles(ctx context.Context, admin Execer, secret string) (Roles, error) {
	r := Roles{owner: derivePassword(secret, OwnerRole), service: derivePassword(secret, ServiceRole)}
	for role, password := range map[string]string{OwnerRole: r.owner, ServiceRole: r.service} {
		if err := ensureLogin(ctx, admin, role, password); err != nil {
			return Roles{}, err
		}
	}
	return r, nil
}

// ensureLogin creates role as a plain login, or resets an existing one to
// that. CREATE ROLE takes no bind parameters, so the password is spliced in:
// it is hex digits (derivePassword), never anything a request chose.
func ensureLogin(ctx context.Context, admin Execer, role, password string) error {
	attrs := " LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD '" + password + "'"
	name := pgx.Identifier{role}.Sanitize()
	_, err := admin.Exec(ctx, "CREATE ROLE "+name+attrs)
	var pgErr *pgconn.PgError
	// duplicate_object, or unique_violation when another test binary
	// created it at the same moment.
	if errors.As(err, &pgErr) && (pgErr.Code == "42710" || pgErr.Code == "23505") {
		_, err = admin.Exec(ctx, "ALTER ROLE "+name+attrs)
	}
	if err != nil {
		return fmt.Errorf("postgres: provision role %s: %w", role, err)
	}
	return nil
}

func derivePassword(secret, role string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("bulwark role password:" + role))
	return hex.EncodeToString(mac.Sum(nil))
}

// Logins returns the URLs of database dbname on the server serverURL points
// to (its host and parameters are kept, its user and database replaced).
func (r Roles) Logins(serverURL, dbname string) (Logins, error) {
	u, err := url.Parse(serverURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		// Never the parse error: it quotes the URL, password included.
		return Logins{}, errors.New("postgres: the server URL must be a postgres:// URL")
	}
	login := func(role, password string) string {
		v := *u
		v.User = url.UserPassword(role, password)
		v.Path = "/" + dbname
		v.RawPath = ""
		return v.String()
	}
	return Logins{Owner: login(OwnerRole, r.owner), Service: login(ServiceRole, r.service)}, nil
}

// ProvisionDatabase makes a throwaway server ready to run Bulwark: the two
// roles, and a database dbname owned by the owner (so that the owner may
// create the tables in its public schema), unless it exists. adminURL is a
// superuser's; the passwords are derived from it.
func ProvisionDatabase(ctx context.Context, adminURL, dbname string) (Logins, error) {
	admin, err := Open(ctx, adminURL, Options{})
	if err != nil {
		return Logins{}, err
	}
	defer admin.Close()
	roles, err := ProvisionRoles(ctx, admin, adminURL)
	if err != nil {
		return Logins{}, err
	}
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, dbname).Scan(&exists); err != nil {
		return Logins{}, fmt.Errorf("postgres: look for database %s: %w", dbname, err)
	}
	if !exists {
		create := "CREATE DATABASE " + pgx.Identifier{dbname}.Sanitize() + " OWNER " + pgx.Identifier{OwnerRole}.Sanitize()
		if _, err := admin.Exec(ctx, create); err != nil {
			return Logins{}, fmt.Errorf("postgres: create database %s: %w", dbname, err)
		}
	}
	return roles.Logins(adminURL, dbname)
}

// rlsTables are the tables with per-customer rows, the payment events, the
// audit trail and the business flows' tables, each under row-level security;
// products, the public catalogue, is the one table without it.
func rlsTables() []string {
	return []string{"users", "refresh_tokens", "orders", "order_items", "files", "payment_events", "audit_log",
		"coupons", "coupon_redemptions", "refunds", "idempotency_keys", "user_mfa", "mfa_recovery_codes"}
}

// CheckServiceRole returns an error that names the fix when the pool's role
// must not run the service: a superuser or a BYPASSRLS role skips every
// policy, and the tables' owner could switch them off. It also refuses a
// database whose tables are missing or not under forced row-level
// security, as before the migrations ran. Production refuses to start on this error
// (internal/app/run.go); development logs it.
func CheckServiceRole(ctx context.Context, pool *pgxpool.Pool) error {
	var (
		role                      string
		super, bypass             bool
		owned, protected, exposed []string
	)
	err := pool.QueryRow(ctx, `
		SELECT r.rolname, r.rolsuper, r.rolbypassrls,
		       array(SELECT c.relname::text FROM pg_class c
		             WHERE c.relkind = 'r' AND c.relname = ANY($1) AND pg_table_is_visible(c.oid)
		               AND pg_has_role(current_user, c.relowner, 'MEMBER') ORDER BY 1),
		       array(SELECT c.relname::text FROM pg_class c
		             WHERE c.relkind = 'r' AND c.relname = ANY($2) AND pg_table_is_visible(c.oid)
		               AND c.relrowsecurity AND c.relforcerowsecurity ORDER BY 1)
		FROM pg_roles r WHERE r.rolname = current_user`,
		append(rlsTables(), "products"), rlsTables()).Scan(&role, &super, &bypass, &owned, &protected)
	if err != nil {
		return fmt.Errorf("read the database role: %w", err)
	}
	fix := fmt.Sprintf("connect as a role that owns nothing, such as %s (docs/01-bola.md)", ServiceRole)
	switch {
	case super:
		return fmt.Errorf("DATABASE_URL's role %s is a superuser, to which row-level security does not apply: %s", role, fix)
	case bypass:
		return fmt.Errorf("DATABASE_URL's role %s has BYPASSRLS, so row-level security does not apply to it: %s", role, fix)
	case len(owned) > 0:
		return fmt.Errorf("DATABASE_URL's role %s owns the tables (%s) and could switch row-level security off: %s, and give the owner's URL to MIGRATE_DATABASE_URL",
			role, strings.Join(owned, ", "), fix)
	}
	for _, table := range rlsTables() {
		if !slices.Contains(protected, table) {
			exposed = append(exposed, table)
		}
	}
	if len(exposed) > 0 {
		return fmt.Errorf("row-level security is not on and forced on %s (or the tables are missing): run the migrations (api migrate) with MIGRATE_DATABASE_URL",
			strings.Join(exposed, ", "))
	}
	return nil
}
