package tests

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bulwark-dev/bulwark/internal/app"
	"github.com/bulwark-dev/bulwark/internal/auth"
	"github.com/bulwark-dev/bulwark/internal/config"
	"github.com/bulwark-dev/bulwark/internal/postgres/pgtest"
)

// This file holds what the fault tests (fault, overload, slow-client and
// SIGTERM) share: the real binary as a child process, cheap users with
// tokens, and a request recorder.

// apiProcess is the api binary running as a child process: what an
// orchestrator runs, signals and measures.
type apiProcess struct {
	URL      string
	Key      []byte // JWT signing key (kid "test")
	Env      map[string]string
	AdminURL string // the database's superuser URL, for fixtures (makeUsers)
	cmd      *exec.Cmd
	logs     *logBuffer
	exited   chan struct{}
	exitErr  error
	exitedAt time.Time
}

// buildAPI compiles ./cmd/api, with this test binary's build tags, into a
// directory of t's. A machine that cannot build it skips the test, except
// under CI, where that is a failure.
func buildAPI(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("no go tool to build the api binary: %v", err)
		}
		t.Fatalf("no go tool to build the api binary: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "api")
	args := []string{"build", "-o", bin}
	if tags := buildTags(); tags != "" {
		args = append(args, "-tags", tags)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, goTool, append(args, "../cmd/api")...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./cmd/api: %v\n%s", err, out)
	}
	return bin
}

// buildTags are the tags this test binary was built with, so the workshop
// run of the suite tests the workshop binary.
func buildTags() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range info.Settings {
		if s.Key == "-tags" {
			return s.Value
		}
	}
	return ""
}

// startProcess seeds a fresh database and runs the binary on a free
// loopback port until the test ends. env overrides the defaults.
func startProcess(t *testing.T, bin string, env map[string]string) *apiProcess {
	t.Helper()
	keySetting, key := newSigningKey()
	settings := map[string]string{
		"APP_ENV":   "development",
		"HTTP_ADDR": "127.0.0.1:0",
		// A port of its own, so that no other server's metrics listener
		// (a demo, another test) can stop this one from starting.
		"METRICS_ADDR":     "127.0.0.1:0",
		"JWT_SIGNING_KEYS": keySetting,
		"SHUTDOWN_TIMEOUT": "10s",
		"FILE_STORAGE_DIR": filepath.Join(t.TempDir(), "files"),
	}
	for k, v := range env {
		settings[k] = v
	}
	var adminURL string
	if settings["DATABASE_URL"] == "" {
		db := pgtest.New(t)
		settings["DATABASE_URL"], settings["MIGRATE_DATABASE_URL"], adminURL = db.Service, db.Owner, db.Admin
	}
	getenv := func(k string) string { return settings[k] }
	if err := app.Run(t.Context(), []string{"seed"}, getenv, io.Discard, io.Discard); err != nil {
		t.Fatalf("seed: %v", err)
	}

	p := &apiProcess{Key: key, Env: settings, AdminURL: adminURL, logs: newLogBuffer(), exited: make(chan struct{})}
	p.cmd = exec.Command(bin, "serve") //nolint:noctx // the test signals and reaps the process itself
	// Only the settings: nothing from the test's own environment (its
	// DATABASE_URL above all) leaks into the child.
	for k, v := range settings {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start api: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		err := p.cmd.Wait()
		p.exitErr, p.exitedAt = err, time.Now()
		close(p.exited)
		done <- err
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("api logs:\n%s", p.logs)
		}
	})
	addr, err := p.logs.waitForListen(done, 20*time.Second)
	if err != nil {
		t.Fatalf("api did not start: %v\nlogs:\n%s", err, p.logs)
	}
	p.URL = "http://" + addr
	waitReady(t, p.URL)
	return p
}

// newSigningKey returns a fresh JWT_SIGNING_KEYS value (kid "test") and
// its key, with which makeUsers signs tokens.
func newSigningKey() (string, []byte) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return "test:" + base64.RawURLEncoding.EncodeToString(key), key
}

// rssMiB is the process's resident memory as the kernel counts it.
func (p *apiProcess) rssMiB() (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			if err != nil {
				return 0, err
			}
			return float64(kb) / 1024, nil
		}
	}
	return 0, errors.New("no VmRSS line")
}

// makeUsers inserts n customers straight into the database (no argon2id
// per user: the fault tests need many accounts, not their passwords) and
// returns an access token for each, signed with the server's key.
func makeUsers(t *testing.T, databaseURL string, key []byte, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	tokens, err := auth.NewTokens([]config.SigningKey{{ID: "test", Secret: key}}, "bulwark", "bulwark-api", 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, n)
	for i := range n {
		id := uuid.New()
		email := fmt.Sprintf("load-%d-%s@example.com", i, id.String()[:8])
		if _, err := conn.Exec(ctx, `INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, 'Load Test', 'unusable')`, id, email); err != nil {
			t.Fatalf("insert user: %v", err)
		}
		// A session for the token to name: Authenticate refuses a token
		// whose refresh family is not live (internal/auth/sessions.go).
		family := uuid.New()
		if _, err := conn.Exec(ctx, `INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at) VALUES (sha256($1::bytea), $2, $3, now() + interval '1 day')`,
			[]byte(family.String()), id, family); err != nil {
			t.Fatalf("insert session: %v", err)
		}
		tok, err := tokens.Issue(auth.Grant{UserID: id, Role: auth.RoleCustomer, Session: family})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tok)
	}
	return out
}

// outcome is one request's fate.
type outcome struct {
	started  time.Time
	elapsed  time.Duration
	status   int // 0: no response
	err      error
	body     string
	ctype    string
	retry    string
	note     string // for order creations: the unique note sent
	location string // for order creations: the id returned
}

func (o outcome) String() string {
	if o.err != nil {
		return fmt.Sprintf("error after %v: %v", o.elapsed.Round(time.Millisecond), o.err)
	}
	return fmt.Sprintf("%d after %v: %.200s", o.status, o.elapsed.Round(time.Millisecond), o.body)
}

// call sends one request and records what came back. xff, when set, is
// sent as X-Forwarded-For, which the server believes only from a trusted
// proxy (the tests that spread load configure loopback as one).
func call(ctx context.Context, client *http.Client, method, url, token, xff, body string) outcome {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	o := outcome{started: time.Now()}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		o.err = err
		return o
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := client.Do(req)
	if err != nil {
		o.elapsed, o.err = time.Since(o.started), err
		return o
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	o.elapsed = time.Since(o.started)
	o.status, o.body, o.err = resp.StatusCode, string(b), err
	o.ctype, o.retry = resp.Header.Get("Content-Type"), resp.Header.Get("Retry-After")
	return o
}

// spreadIP is a distinct client address per index, for X-Forwarded-For.
func spreadIP(i int) string { return fmt.Sprintf("10.%d.%d.%d", (i>>16)&255, (i>>8)&255, i&255|1) }

// leak names driver or network text in a response body, which must never
// reach a client however the database fails (docs/08-errors.md).
func leak(body string) string {
	lower := strings.ToLower(body)
	for _, s := range []string{"pgx", "pgconn", "sqlstate", "dial", "connection refused", "connect:", "127.0.0.1", "postgres", "fatal", "timeout:", "context deadline", "canceling statement", "goroutine", ".go:"} {
		if strings.Contains(lower, s) {
			return s
		}
	}
	return ""
}

// checkUnavailable reports what is wrong with a 503: it must be
// problem+json, carry Retry-After and say nothing about the cause.
func checkUnavailable(o outcome) string {
	switch {
	case !strings.HasPrefix(o.ctype, "application/problem+json"):
		return "Content-Type " + o.ctype
	case o.retry == "":
		return "no Retry-After"
	case leak(o.body) != "":
		return "body leaks " + strconv.Quote(leak(o.body))
	}
	return ""
}

// refusedOrReset reports whether err is the connection being refused or
// reset: what a client sees from a listener that has closed.
func refusedOrReset(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF)
}

// countBy tallies outcomes by status (0 for transport errors).
func countBy(outs []outcome) map[int]int {
	m := map[int]int{}
	for _, o := range outs {
		m[o.status]++
	}
	return m
}

// orderJSON is a valid order with a note the test can look for afterwards.
func orderJSON(note string) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"items":[{"product_id":"9e000000-0000-4000-8000-000000000001","quantity":1}],`+
		`"shipping_address":{"name":"Load Test","line1":"1 Main Street","city":"Springfield","postal_code":"12345","country":"US"},"note":%q}`, note)
	return b.String()
}
