package config_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bulwark-dev/bulwark/internal/config"
)

// env turns a map into the getenv that Load takes.
func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

// newKey returns a fresh random 32-byte key and its "kid:base64url" form.
func newKey(t *testing.T, kid string) ([]byte, string) {
	t.Helper()
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	return secret, kid + ":" + base64.RawURLEncoding.EncodeToString(secret)
}

// production returns a complete, valid production environment; tests change
// one variable at a time so each failure has exactly one cause.
func production(t *testing.T) map[string]string {
	t.Helper()
	_, key := newKey(t, "k1")
	_, urlKey := newKey(t, "u1")
	return map[string]string{
		"APP_ENV":          config.Production,
		"DATABASE_URL":     "postgres://bulwark:pg-password-42@db.internal:5432/bulwark?sslmode=verify-full",
		"JWT_SIGNING_KEYS": key,
		"URL_SIGNING_KEYS": urlKey,
	}
}

func mustLoad(t *testing.T, vars map[string]string) config.Config {
	t.Helper()
	cfg, err := config.Load(env(vars))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg
}

// assertOneLineNaming checks the operator-facing shape of a refusal: one
// line that names the variable to fix.
func assertOneLineNaming(t *testing.T, err error, variable string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Load succeeded, want an error naming %s", variable)
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\r\n") {
		t.Errorf("error is not one line: %q", msg)
	}
	if !strings.Contains(msg, variable) {
		t.Errorf("error %q does not name %s", msg, variable)
	}
}

func TestLoadDevelopmentDefaults(t *testing.T) {
	cfg := mustLoad(t, map[string]string{})

	type summary struct {
		Env, HTTPAddr, Issuer, Audience string
		AccessTTL, RefreshTTL           time.Duration
		KeyIDs                          []string
		Origins                         []string
		Proxies                         []netip.Prefix
		Production, Seed                bool
	}
	got := summary{
		Env: cfg.Env, HTTPAddr: cfg.HTTPAddr, Issuer: cfg.TokenIssuer, Audience: cfg.TokenAudience,
		AccessTTL: cfg.AccessTokenTTL, RefreshTTL: cfg.RefreshTokenTTL,
		Origins: cfg.CORSAllowedOrigins, Proxies: cfg.TrustedProxies,
		Production: cfg.IsProduction(), Seed: cfg.SeedDemoData,
	}
	for _, k := range cfg.SigningKeys {
		got.KeyIDs = append(got.KeyIDs, k.ID)
	}
	want := summary{
		Env: config.Development, HTTPAddr: "127.0.0.1:8080", Issuer: "bulwark", Audience: "bulwark-api",
		AccessTTL: 10 * time.Minute, RefreshTTL: 30 * 24 * time.Hour,
		KeyIDs: []string{"dev"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("development defaults (-want +got):\n%s", diff)
	}

	// The default key is exactly the published development key.
	kid, encoded, _ := strings.Cut(config.DevSigningKey, ":")
	devSecret, err := base64.RawURLEncoding.DecodeString(encoded)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.SigningKeys) != 1 || cfg.SigningKeys[0].ID != kid || !bytes.Equal(cfg.SigningKeys[0].Secret, devSecret) {
		t.Errorf("development signing keys = %+v, want the DevSigningKey", cfg.SigningKeys)
	}
}

func TestLoadRefusesUnknownEnvironment(t *testing.T) {
	for _, appEnv := range []string{"prod", "Production", "staging", "dev"} {
		t.Run(appEnv, func(t *testing.T) {
			_, err := config.Load(env(map[string]string{"APP_ENV": appEnv}))
			assertOneLineNaming(t, err, "APP_ENV")
		})
	}
}

func TestLoadProductionRefusals(t *testing.T) {
	shortKey := "k1:" + base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdef")) // 16 bytes
	lowVariety := "k1:" + base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte("a"), 32))
	password := "k1:" + base64.RawURLEncoding.EncodeToString([]byte("correcthorsecorrecthorsecorrecth")) // 32 bytes, 8 distinct

	tests := []struct {
		name     string
		change   map[string]string // "" deletes the variable
		variable string
	}{
		{name: "missing DATABASE_URL", change: map[string]string{"DATABASE_URL": ""}, variable: "DATABASE_URL"},
		{name: "missing JWT_SIGNING_KEYS", change: map[string]string{"JWT_SIGNING_KEYS": ""}, variable: "JWT_SIGNING_KEYS"},
		{name: "development key", change: map[string]string{"JWT_SIGNING_KEYS": config.DevSigningKey}, variable: "JWT_SIGNING_KEYS"},
		{name: "development key padded", change: map[string]string{"JWT_SIGNING_KEYS": config.DevSigningKey + "="}, variable: "JWT_SIGNING_KEYS"},
		{name: "development key under another kid", change: map[string]string{"JWT_SIGNING_KEYS": "prod" + config.DevSigningKey[strings.Index(config.DevSigningKey, ":"):]}, variable: "JWT_SIGNING_KEYS"},
		{name: "development key as a retired key", change: map[string]string{"JWT_SIGNING_KEYS": production(t)["JWT_SIGNING_KEYS"] + "," + config.DevSigningKey}, variable: "JWT_SIGNING_KEYS"},
		{name: "short key", change: map[string]string{"JWT_SIGNING_KEYS": shortKey}, variable: "JWT_SIGNING_KEYS"},
		{name: "32 times a", change: map[string]string{"JWT_SIGNING_KEYS": lowVariety}, variable: "JWT_SIGNING_KEYS"},
		{name: "password as key", change: map[string]string{"JWT_SIGNING_KEYS": password}, variable: "JWT_SIGNING_KEYS"},
		{name: "missing URL_SIGNING_KEYS", change: map[string]string{"URL_SIGNING_KEYS": ""}, variable: "URL_SIGNING_KEYS"},
		{name: "development URL key", change: map[string]string{"URL_SIGNING_KEYS": config.DevURLSigningKey}, variable: "URL_SIGNING_KEYS"},
		{name: "JWT development key as URL key", change: map[string]string{"URL_SIGNING_KEYS": config.DevSigningKey}, variable: "URL_SIGNING_KEYS"},
		{name: "S3 without TLS", change: map[string]string{"FILE_STORAGE": "s3", "S3_ENDPOINT": "s3.internal:9000", "S3_BUCKET": "b", "S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "s", "S3_USE_TLS": "false"}, variable: "S3_USE_TLS"},
		{name: "key without kid", change: map[string]string{"JWT_SIGNING_KEYS": ":" + strings.Repeat("A", 43)}, variable: "JWT_SIGNING_KEYS"},
		{name: "key not base64", change: map[string]string{"JWT_SIGNING_KEYS": "k1:!!!not-base64!!!"}, variable: "JWT_SIGNING_KEYS"},
		{name: "seed demo data", change: map[string]string{"SEED_DEMO_DATA": "true"}, variable: "SEED_DEMO_DATA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := production(t)
			for k, v := range tt.change {
				vars[k] = v
			}
			cfg, err := config.Load(env(vars))
			assertOneLineNaming(t, err, tt.variable)
			if diff := cmp.Diff(config.Config{}, cfg, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("Load returned a partial config alongside the error (-want +got):\n%s", diff)
			}
			// A refused key is a secret: the error names the kid, never the value.
			if key := vars["JWT_SIGNING_KEYS"]; err != nil {
				if _, secret, ok := strings.Cut(key, ":"); ok && len(secret) > 8 && strings.Contains(err.Error(), secret) {
					t.Errorf("error %q repeats the key material", err)
				}
			}
		})
	}
}

func TestLoadProductionAcceptsGoodConfig(t *testing.T) {
	vars := production(t)
	cfg := mustLoad(t, vars)
	if !cfg.IsProduction() {
		t.Errorf("IsProduction() = false for APP_ENV=%q", vars["APP_ENV"])
	}
	if got, want := cfg.DatabaseURL.Reveal(), vars["DATABASE_URL"]; got != want {
		t.Errorf("DatabaseURL.Reveal() = %q, want %q", got, want)
	}
}

func TestLoadKeyRotation(t *testing.T) {
	newSecret, newKeyText := newKey(t, "2025-06")
	oldSecret, oldKeyText := newKey(t, "2025-01")
	vars := production(t)
	vars["JWT_SIGNING_KEYS"] = newKeyText + " , " + oldKeyText
	cfg := mustLoad(t, vars)

	want := []config.SigningKey{{ID: "2025-06", Secret: newSecret}, {ID: "2025-01", Secret: oldSecret}}
	if diff := cmp.Diff(want, cfg.SigningKeys); diff != "" {
		t.Errorf("SigningKeys (-want +got), the first listed must sign:\n%s", diff)
	}

	t.Run("standard base64 with padding is accepted too", func(t *testing.T) {
		vars := production(t)
		vars["JWT_SIGNING_KEYS"] = "k9:" + base64.StdEncoding.EncodeToString(newSecret)
		cfg := mustLoad(t, vars)
		if len(cfg.SigningKeys) != 1 || !bytes.Equal(cfg.SigningKeys[0].Secret, newSecret) {
			t.Errorf("SigningKeys = %v, want the one key k9", cfg.SigningKeys)
		}
	})

	t.Run("duplicate kid refused", func(t *testing.T) {
		vars := production(t)
		_, other := newKey(t, "2025-06")
		vars["JWT_SIGNING_KEYS"] = newKeyText + "," + other
		_, err := config.Load(env(vars))
		assertOneLineNaming(t, err, "JWT_SIGNING_KEYS")
	})
}

func TestLoadCORSAllowedOrigins(t *testing.T) {
	accepted := []struct {
		value string
		want  []string
	}{
		{value: "https://app.example.com", want: []string{"https://app.example.com"}},
		{value: "https://App.Example.COM", want: []string{"https://app.example.com"}},
		{value: "https://app.example.com:8443, http://localhost:5173", want: []string{"https://app.example.com:8443", "http://localhost:5173"}},
	}
	for _, tt := range accepted {
		t.Run("accepts "+tt.value, func(t *testing.T) {
			cfg := mustLoad(t, map[string]string{"CORS_ALLOWED_ORIGINS": tt.value})
			if diff := cmp.Diff(tt.want, cfg.CORSAllowedOrigins); diff != "" {
				t.Errorf("CORSAllowedOrigins (-want +got):\n%s", diff)
			}
		})
	}

	refused := []string{
		"null",
		"*",
		"https://*.example.com",
		"https://app.example.com/",    // url.Parse gives Path "/": not an exact origin
		"https://app.example.com/api", // a path
		"https://user:pw@app.example.com",
		"https://app.example.com?x=1",
		"https://app.example.com#frag",
		"app.example.com",          // no scheme
		"ftp://app.example.com",    // not http(s)
		"https://",                 // no host
		"https://ok.example.com,*", // one bad entry spoils the list
	}
	for _, value := range refused {
		t.Run("refuses "+value, func(t *testing.T) {
			_, err := config.Load(env(map[string]string{"CORS_ALLOWED_ORIGINS": value}))
			assertOneLineNaming(t, err, "CORS_ALLOWED_ORIGINS")
		})
	}
}

func TestLoadTrustedProxies(t *testing.T) {
	accepted := []struct {
		value string
		want  []netip.Prefix
	}{
		{value: "10.0.0.0/8", want: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}},
		{value: "10.1.2.3/8", want: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, // masked
		{value: "192.0.2.10", want: []netip.Prefix{netip.MustParsePrefix("192.0.2.10/32")}},
		{value: "2001:db8::1", want: []netip.Prefix{netip.MustParsePrefix("2001:db8::1/128")}},
		{value: "10.0.0.0/8, fd00::/8", want: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}},
	}
	for _, tt := range accepted {
		t.Run("accepts "+tt.value, func(t *testing.T) {
			cfg := mustLoad(t, map[string]string{"TRUSTED_PROXIES": tt.value})
			if diff := cmp.Diff(tt.want, cfg.TrustedProxies, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("TrustedProxies (-want +got):\n%s", diff)
			}
		})
	}

	for _, value := range []string{"0.0.0.0/0", "::/0", "10.0.0.0/8,0.0.0.0/0", "not-an-ip", "10.0.0.0/33", "10.0.0.0/8/8"} {
		t.Run("refuses "+value, func(t *testing.T) {
			_, err := config.Load(env(map[string]string{"TRUSTED_PROXIES": value}))
			assertOneLineNaming(t, err, "TRUSTED_PROXIES")
		})
	}
}

func TestLoadRefusesBadValues(t *testing.T) {
	tests := []struct{ variable, value string }{
		{"ACCESS_TOKEN_TTL", "2h"},
		{"ACCESS_TOKEN_TTL", "ten minutes"},
		{"REFRESH_TOKEN_TTL", "10m"},
		{"PASSWORD_HASH_CONCURRENCY", "0"},
		{"PASSWORD_HASH_CONCURRENCY", "many"},
		{"BODY_LIMIT_BYTES", "10"},
		{"SHUTDOWN_TIMEOUT", "0s"},
		{"LOG_LEVEL", "verbose"},
		{"SEED_DEMO_DATA", "yes please"},
		{"RATE_LIMIT_STORE", "memcached"},
		{"RATE_LIMIT_STORE", "redis"}, // without REDIS_URL
		{"FILE_STORAGE", "ftp"},
		{"DOWNLOAD_URL_TTL", "1h"},
		{"UPLOAD_MAX_BYTES", "10"},
		{"MAX_FILES_PER_ORDER", "0"},
		// The fault-tolerance settings (docs/misconfiguration.md).
		{"REQUEST_TIMEOUT", "500ms"},
		{"REQUEST_TIMEOUT", "2m"}, // past the write timeout: the 503 could not be sent
		{"MAX_IN_FLIGHT_REQUESTS", "0"},
		{"HTTP_READ_HEADER_TIMEOUT", "0s"}, // no slowloris bound at all
		{"HTTP_READ_HEADER_TIMEOUT", "2m"},
		{"HTTP_READ_TIMEOUT", "1s"}, // below the header timeout, which it would replace
		{"HTTP_READ_TIMEOUT", "1h"},
		{"HTTP_IDLE_TIMEOUT", "0s"},
	}
	for _, tt := range tests {
		t.Run(tt.variable+"="+tt.value, func(t *testing.T) {
			_, err := config.Load(env(map[string]string{tt.variable: tt.value}))
			assertOneLineNaming(t, err, tt.variable)
		})
	}
}

// The statement timeout sits below the request deadline, so the database
// gives up first and the connection returns to the pool healthy.
func TestStatementTimeoutIsBelowRequestTimeout(t *testing.T) {
	cfg, err := config.Load(env(map[string]string{"REQUEST_TIMEOUT": "4s"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.StatementTimeout(); got <= 0 || got >= cfg.RequestTimeout {
		t.Errorf("statement timeout %s, want above zero and below the request timeout %s", got, cfg.RequestTimeout)
	}
}

func TestConfigStringMasksSecrets(t *testing.T) {
	newSecret, newKeyText := newKey(t, "k-new")
	oldSecret, oldKeyText := newKey(t, "k-old")
	tests := []struct {
		name        string
		databaseURL string
		hidden      []string
	}{
		{name: "password in userinfo", databaseURL: "postgres://bulwark:Pa55-in-userinfo@db:5432/bulwark", hidden: []string{"Pa55-in-userinfo"}},
		{name: "password in query", databaseURL: "postgres://bulwark@db/bulwark?sslmode=require&password=Pa55-in-query", hidden: []string{"Pa55-in-query"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := production(t)
			vars["DATABASE_URL"] = tt.databaseURL
			vars["MIGRATE_DATABASE_URL"] = "postgres://bulwark_owner:Owner-Pa55@db:5432/bulwark"
			vars["JWT_SIGNING_KEYS"] = newKeyText + "," + oldKeyText
			cfg := mustLoad(t, vars)

			printed := []string{cfg.String(), fmt.Sprint(cfg), fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%v", &cfg)}
			hidden := append([]string{"Owner-Pa55"}, tt.hidden...)
			for _, secret := range [][]byte{newSecret, oldSecret} {
				hidden = append(hidden, string(secret),
					base64.RawURLEncoding.EncodeToString(secret), base64.StdEncoding.EncodeToString(secret))
			}
			for _, out := range printed {
				for _, h := range hidden {
					if strings.Contains(out, h) {
						t.Errorf("printed config contains secret %q:\n%s", h, out)
					}
				}
			}
			// Non-secret facts still show, so the start-up line is useful.
			for _, visible := range []string{"env=production", "k-new", "k-old", "db"} {
				if !strings.Contains(cfg.String(), visible) {
					t.Errorf("String() = %q, want it to show %q", cfg.String(), visible)
				}
			}
		})
	}
}

func TestSecretFormatsMasked(t *testing.T) {
	s := config.Secret("hunter2-very-secret")
	for _, verb := range []string{"%v", "%s", "%+v"} {
		t.Run(verb, func(t *testing.T) {
			got := fmt.Sprintf(verb, s)
			if strings.Contains(got, "hunter2") {
				t.Errorf("Sprintf(%q, secret) = %q, reveals the secret", verb, got)
			}
			if got != "*****" {
				t.Errorf("Sprintf(%q, secret) = %q, want *****", verb, got)
			}
		})
	}
	if got := fmt.Sprintf("%v", struct{ S config.Secret }{s}); strings.Contains(got, "hunter2") {
		t.Errorf("secret inside a struct printed as %q", got)
	}
	if got := s.Reveal(); got != "hunter2-very-secret" {
		t.Errorf("Reveal() = %q", got)
	}
	if got := config.Secret("").String(); got != "" {
		t.Errorf(`Secret("").String() = %q, want ""`, got)
	}
}

// String must not print a password however the connection string carries it.
func TestStringMasksEveryFormOfDatabasePassword(t *testing.T) {
	for _, dsn := range []string{
		"host=db user=bulwark password=hunter2 dbname=x",
		"postgres://u@h/db?sslpassword=hunter2",
		"postgres://u:hunter2@h/db",
		"postgresql://h/db?password=hunter2",
	} {
		cfg, err := config.Load(func(k string) string {
			if k == "DATABASE_URL" {
				return dsn
			}
			return ""
		})
		if err != nil {
			t.Fatalf("%q: %v", dsn, err)
		}
		if strings.Contains(cfg.String(), "hunter2") {
			t.Errorf("String() of %q shows the password: %s", dsn, cfg.String())
		}
	}
}
