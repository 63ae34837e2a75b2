package main

import (
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/bulwark-dev/bulwark/internal/auth"
	"github.com/bulwark-dev/bulwark/internal/config"
)

// Token settings the secure server is started with; the bench issues its
// users' access tokens with the same key, as the login endpoint would.
// Minting them here, instead of logging 10,000 users in, saves 10,000
// argon2id hashes (minutes on two cores); the server verifies them exactly
// as it verifies its own.
const (
	tokenIssuer   = "bulwark"
	tokenAudience = "bulwark-api" //nolint:gosec // an audience name, not a credential.
	tokenTTL      = time.Hour
)

type bench struct {
	opt    options
	d      Dataset
	out    io.Writer
	getenv func(string) string

	dir      string
	dbURL    string
	secure   *server
	baseline *server
	// noRLS is the secure server once more, connected as a role that
	// row-level security does not bind (measurement 6).
	noRLS      *server
	postmaster int // the database server's pid, for its CPU; 0 if unknown
	script     string
	// apiBin and secureEnv start another secure server (7, 8): the built
	// ./cmd/api and the secure server's whole environment.
	apiBin    string
	secureEnv []string

	users []userCreds
	rows  []row
	// loadRate is the open-loop rate of 1, reused by 4.
	loadRate float64
	// discarded counts rounds thrown away because the machine stalled.
	discarded int
	// overloaded counts rounds kept although the server shed load in them.
	overloaded int
}

// userCreds are what one simulated customer sends: a bearer token and,
// through the trusted proxy, an address of its own.
type userCreds struct {
	secure   http.Header
	baseline http.Header
}

func (b *bench) logf(format string, args ...any) {
	_, _ = fmt.Fprintf(b.out, "# "+format+"\n", args...)
}

func (b *bench) run(ctx context.Context) error {
	began := time.Now()
	dir, err := os.MkdirTemp("", "bulwark-bench-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	b.dir = dir
	if err := os.Chmod(dir, 0o755); err != nil { //nolint:gosec // the cluster's unprivileged user reads nothing here, but the server binary runs from it.
		return err
	}

	b.logf("building ./cmd/api")
	api, err := buildAPI(ctx, dir)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := openDatabase(ctx, b.getenv("DATABASE_URL"), logger)
	if err != nil {
		return err
	}
	defer db.close()
	b.dbURL, b.postmaster = db.url, db.postmaster
	if err := Seed(ctx, db.url, b.d, func(s string) { b.logf("%s", s) }); err != nil {
		return err
	}

	key, err := b.issueTokens()
	if err != nil {
		return err
	}
	procs := fmt.Sprint(runtime.NumCPU())
	serverURL := withPoolSize(db.url, b.opt.poolSize)
	// The settings of the secure server, and of its twin without row-level
	// security.
	secureEnv := []string{
		"GOMAXPROCS=" + procs,
		"JWT_SIGNING_KEYS=" + key,
		"URL_SIGNING_KEYS=bench-url:" + randomKey(),
		"ACCESS_TOKEN_TTL=1h",
		// The load generator stands in for a reverse proxy on loopback and
		// names each simulated customer's address in X-Forwarded-For, the
		// way a real deployment behind a proxy is configured. The limits
		// themselves are the production ones (docs/performance.md).
		"TRUSTED_PROXIES=127.0.0.1/32",
		"FILE_STORAGE_DIR=" + filepath.Join(dir, "files"),
		"UPLOAD_MAX_BYTES=1073741824",
		"LOG_LEVEL=info",
	}
	// The secure server connects as the service's role, under row-level
	// security, as production must (it refuses any other login).
	b.apiBin = api
	b.secureEnv = append([]string{"APP_ENV=production", "DATABASE_URL=" + withPoolSize(db.service, b.opt.poolSize)}, secureEnv...)
	b.secure, err = startServer(ctx, "api", api, []string{"serve"}, b.secureEnv, filepath.Join(dir, "api.log"), "/readyz")
	if err != nil {
		return err
	}
	defer b.secure.stop()
	// The same binary and settings on the superuser, which row-level
	// security does not bind: the difference is the policies' cost.
	// Development mode, because production refuses that login; nothing
	// else differs between the modes once started.
	b.noRLS, err = startServer(ctx, "api-no-rls", api, []string{"serve"},
		append([]string{"APP_ENV=development", "DATABASE_URL=" + serverURL}, secureEnv...),
		filepath.Join(dir, "api-no-rls.log"), "/readyz")
	if err != nil {
		return err
	}
	defer b.noRLS.stop()
	b.baseline, err = startServer(ctx, "baseline", self, []string{"baseline"}, []string{
		"GOMAXPROCS=" + procs,
		"DATABASE_URL=" + serverURL,
	}, filepath.Join(dir, "baseline.log"), "/readyz")
	if err != nil {
		return err
	}
	defer b.baseline.stop()
	if err := b.sameAnswers(ctx); err != nil {
		return err
	}
	b.script = filepath.Join(dir, "get_order.sql")
	if err := pgbenchScript(b.d, b.script); err != nil {
		return err
	}
	b.logf("ready after %s: %d orders, %d users; GOMAXPROCS=%s for each server; %d rounds of %s; concurrency %d",
		time.Since(began).Round(time.Second), b.d.TotalOrders(), b.d.Users, procs, b.opt.rounds, b.opt.round, b.opt.concurrency)

	steps := []struct {
		id string
		fn func(context.Context) error
	}{
		// The transfer first, on a server that has not yet grown its heap
		// under load: the strictest moment to measure memory growth.
		{"5", b.transfer},
		{"1", b.throughput},
		{"6", b.rlsCost},
		{"4", b.bruteForce},
		{"3", b.keyset},
		{"7", b.redisLimiter},
		{"9", b.hotProduct},
		// The profile last, on a server of its own; only with -profile.
		{"8", b.profile},
	}
	for _, s := range steps {
		// Measurement 2 comes from the same rounds as 1.
		wanted := strings.Contains(b.opt.only, s.id) || (s.id == "1" && strings.Contains(b.opt.only, "2"))
		if b.opt.only != "" && !wanted || s.id == "8" && b.opt.profile == "" {
			continue
		}
		if err := s.fn(ctx); err != nil {
			return err
		}
	}
	b.printTable(time.Since(began))
	return nil
}

// issueTokens mints every user's access token and returns the key setting
// the server verifies them with.
func (b *bench) issueTokens() (string, error) {
	secret := make([]byte, 32)
	_, _ = crand.Read(secret)
	tokens, err := auth.NewTokens([]config.SigningKey{{ID: "bench", Secret: secret}}, tokenIssuer, tokenAudience, tokenTTL)
	if err != nil {
		return "", err
	}
	b.users = make([]userCreds, b.d.Users)
	for u := range b.users {
		tok, err := tokens.Issue(auth.Grant{UserID: userID(u), Role: auth.RoleCustomer, Session: sessionID(u)})
		if err != nil {
			return "", err
		}
		b.users[u] = userCreds{
			secure:   http.Header{"Authorization": {"Bearer " + tok}, "X-Forwarded-For": {userAddr(u)}},
			baseline: http.Header{callerHeader: {userID(u).String()}},
		}
	}
	return "bench:" + base64.RawURLEncoding.EncodeToString(secret), nil
}

func randomKey() string {
	secret := make([]byte, 32)
	_, _ = crand.Read(secret)
	return base64.RawURLEncoding.EncodeToString(secret)
}

// userAddr is customer u's address, in 198.18.0.0/15, the range RFC 2544
// sets aside for benchmarks. Customers never share an address, as they
// would not behind a real proxy.
func userAddr(u int) string { return fmt.Sprintf("198.18.%d.%d", (u>>8)&0xff, u&0xff) }

// attackerAddr is a random address of the brute-forcing botnet, in the
// other half of the benchmark range.
func attackerAddr() string {
	return fmt.Sprintf("198.19.%d.%d", rand.IntN(256), rand.IntN(256)) //nolint:gosec // picks load, not secrets.
}

// randomOrder picks a regular customer's order and its owner.
func (b *bench) randomOrder() (n, u int) {
	n = b.d.FirstRegularOrder() + rand.IntN(b.d.LastRegularOrder()-b.d.FirstRegularOrder()+1) //nolint:gosec // picks load, not secrets.
	return n, b.d.OwnerOf(n)
}

// sameAnswers checks that both servers return the same order for the same
// caller: the comparison is of the same work.
func (b *bench) sameAnswers(ctx context.Context) error {
	n, u := b.randomOrder()
	path := "/api/v1/orders/" + orderID(n).String()
	secure, err := get(ctx, b.secure.base+path, b.users[u].secure)
	if err != nil {
		return fmt.Errorf("secure server: %w", err)
	}
	noRLS, err := get(ctx, b.noRLS.base+path, b.users[u].secure)
	if err != nil {
		return fmt.Errorf("secure server without row-level security: %w", err)
	}
	if string(secure) != string(noRLS) {
		return fmt.Errorf("row-level security changes the answer:\nwith:    %s\nwithout: %s", secure, noRLS)
	}
	baseline, err := get(ctx, b.baseline.base+path, b.users[u].baseline)
	if err != nil {
		return fmt.Errorf("baseline server: %w", err)
	}
	if string(secure) != string(baseline) {
		return fmt.Errorf("the servers answer differently:\nsecure:   %s\nbaseline: %s", secure, baseline)
	}
	return nil
}

func get(ctx context.Context, url string, h http.Header) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header = h.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	return body, nil
}
