// Package cluster starts a throwaway PostgreSQL server from the binaries
// installed on this machine, for integration tests and local development.
//
// It is no place for data that matters: durability is switched off for speed,
// and Stop deletes the data directory. Defer Stop right after a successful
// Start. On Linux the kernel also shuts the server down if the caller dies
// without stopping it; on other systems the server would keep running.
package cluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// superuser is the role initdb creates; the name is not a secret, the
// password is.
const superuser = "bulwark"

// Timeouts for the server's life cycle. An idle test server starts in about
// a second and stops in less; these bounds only keep a wedged one from hanging
// the caller for ever.
const (
	readyTimeout = 30 * time.Second
	stopTimeout  = 30 * time.Second
)

// logTailLines is how much of the server log an error carries: enough for the
// FATAL line and the context before it.
const logTailLines = 20

// Options configures Start. The zero value is ready to use.
type Options struct {
	// Dir is the parent of the cluster's own directory, which holds the data
	// and the server log and is removed by Stop (for example ".data"). Empty
	// means os.TempDir(). When this process is root and the server's
	// unprivileged user cannot reach Dir, os.TempDir() is used instead and a
	// warning is logged.
	Dir string
	// Logger receives progress and warnings; nil discards them.
	Logger *slog.Logger
}

// Cluster is a running server. Its only role is the superuser, so hand its
// URLs to tests and tools, never to the application as its everyday login.
type Cluster struct {
	dir     string  // ours alone: data directory, server log; removed by Stop
	base    url.URL // superuser URL without a database name; holds the password
	logPath string
	logFile *os.File
	logger  *slog.Logger

	// What start used, kept so Restart can start the same server again.
	bin     binaries
	owner   *account
	dataDir string

	server *exec.Cmd
	exited chan struct{} // closed once the server process has exited

	stopOnce sync.Once
	stopErr  error
}

// errPortTaken marks a start that lost the race for its port: between
// freePort closing its listener and the server binding, anything else on the
// machine may take the port.
var errPortTaken = errors.New("port already in use")

// Start creates a new cluster and starts its server on a free port of
// 127.0.0.1. ctx bounds the start-up only; the server runs until Stop.
func Start(ctx context.Context, opts Options) (_ *Cluster, err error) {
	began := time.Now()
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	owner, err := serverAccount()
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	dir, err := makeDir(opts.Dir, owner, logger)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	// Until Start returns a Cluster nobody else knows the directory exists,
	// so a failed start must remove it.
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()

	// A password even though the server listens on 127.0.0.1 only: every
	// other user and container sharing this machine's network can reach that.
	password := rand.Text()
	dataDir := filepath.Join(dir, "data")
	if err := initdb(ctx, bin, owner, dir, dataDir, password); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}

	logPath := filepath.Join(dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cluster: create server log: %w", err)
	}
	c := &Cluster{
		dir: dir,
		base: url.URL{
			Scheme:   "postgres",
			User:     url.UserPassword(superuser, password),
			RawQuery: "sslmode=disable", // loopback only: TLS would protect nothing
		},
		logPath: logPath,
		logFile: logFile,
		logger:  logger,
		bin:     bin,
		owner:   owner,
		dataDir: dataDir,
	}
	if err := c.start(ctx, bin, owner, dataDir); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("cluster: %w", err)
	}
	logger.Info("postgres cluster started", "cluster", c, "dir", dir,
		"took", time.Since(began).Round(time.Millisecond))
	return c, nil
}

// URL returns the superuser's connection URL for database dbname. It holds
// the password: pass it on, never log it (log the Cluster instead).
func (c *Cluster) URL(dbname string) string {
	u := c.base
	u.Path = "/" + dbname
	return u.String()
}

// Dir is the cluster's directory, with the data and the server log
// (postgres.log), for reading while the cluster runs; Stop removes it.
func (c *Cluster) Dir() string { return c.dir }

// String describes the cluster as a URL with the password masked, so a
// Cluster can be printed or logged as it is.
func (c *Cluster) String() string {
	u := c.base
	u.Path = "/"
	return u.Redacted()
}

// GoString keeps %#v, which would otherwise print every field, password
// included, as masked as %v.
func (c *Cluster) GoString() string { return c.String() }

// LogValue makes slog print the masked form whatever the handler.
func (c *Cluster) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Stop shuts the server down (a fast shutdown: open transactions are rolled
// back) and removes the cluster's directory. Calling it again returns the
// first call's result. Pass a live context, such as context.Background(): if
// ctx ends first, the server is killed rather than stopped.
func (c *Cluster) Stop(ctx context.Context) error {
	c.stopOnce.Do(func() { c.stopErr = c.stop(ctx) })
	return c.stopErr
}

func (c *Cluster) stop(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, stopTimeout)
	defer cancel()
	// SIGINT is PostgreSQL's fast shutdown, what "pg_ctl stop -m fast" sends.
	err := c.signalAndWait(ctx, os.Interrupt)
	if cerr := c.logFile.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close server log: %w", cerr))
	}
	if rerr := os.RemoveAll(c.dir); rerr != nil {
		err = errors.Join(err, fmt.Errorf("remove %s: %w", c.dir, rerr))
	}
	if err != nil {
		return fmt.Errorf("cluster: stop: %w", err)
	}
	c.logger.Info("postgres cluster stopped", "cluster", c)
	return nil
}

// Restart stops the server with a fast shutdown (sessions are ended, open
// transactions rolled back, committed data kept), calls whileDown while no
// server listens, and starts the server again with the same data on the same
// port, so every URL handed out stays valid. It is for tests of how clients
// ride out a database restart. Do not call it concurrently with Stop.
func (c *Cluster) Restart(ctx context.Context, whileDown func()) error {
	stopCtx, cancel := context.WithTimeout(ctx, stopTimeout)
	defer cancel()
	if err := c.signalAndWait(stopCtx, os.Interrupt); err != nil {
		return fmt.Errorf("cluster: restart: %w", err)
	}
	if whileDown != nil {
		whileDown()
	}
	_, portText, err := net.SplitHostPort(c.base.Host)
	if err != nil {
		return fmt.Errorf("cluster: restart: %w", err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return fmt.Errorf("cluster: restart: port %q: %w", portText, err)
	}
	// No retry on another port, unlike Start: clients hold this one.
	if err := c.startOn(ctx, c.bin, c.owner, c.dataDir, port); err != nil {
		return fmt.Errorf("cluster: restart: %w", err)
	}
	c.logger.Info("postgres cluster restarted", "cluster", c)
	return nil
}

// makeDir creates the cluster's own directory under parent and hands it to
// the server's account.
func makeDir(parent string, owner *account, logger *slog.Logger) (string, error) {
	if parent == "" {
		parent = os.TempDir()
	}
	// The server runs in the cluster directory, not ours, so every path it is
	// given must be absolute.
	parent, err := filepath.Abs(parent)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", parent, err)
	}
	// Parents are left to the caller's user with ordinary permissions: only
	// the cluster's own directory below needs to belong to the server.
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", parent, err)
	}
	if !owner.canReach(parent) {
		fallback := os.TempDir()
		if !owner.canReach(fallback) {
			return "", fmt.Errorf("user %s can reach neither %s nor %s: choose a Dir every parent of which it may enter",
				owner.name, parent, fallback)
		}
		logger.Warn("postgres cluster: the server's user cannot reach the requested directory, using the temporary directory",
			"requested", parent, "user", owner.name, "using", fallback)
		parent = fallback
	}
	dir, err := os.MkdirTemp(parent, "bulwark-pg-")
	if err != nil {
		return "", fmt.Errorf("create cluster directory: %w", err)
	}
	if err := owner.chown(dir); err != nil {
		_ = os.Remove(dir)
		return "", err
	}
	return dir, nil
}

// initdb creates the data directory with the superuser and its password.
func initdb(ctx context.Context, bin binaries, owner *account, dir, dataDir, password string) error {
	// The password goes through a file, never the command line, which any
	// user on the machine can read from the process list.
	pwPath := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwPath, []byte(password+"\n"), 0o600); err != nil {
		return fmt.Errorf("write password file: %w", err)
	}
	defer func() { _ = os.Remove(pwPath) }()
	if err := owner.chown(pwPath); err != nil {
		return err
	}

	cmd := exec.CommandContext(ctx, bin.initdb,
		"--pgdata="+dataDir,
		"--username="+superuser,
		"--pwfile="+pwPath,
		// Both TCP and socket logins need the password; trust would let any
		// local user in as superuser.
		"--auth=scram-sha-256",
		"--encoding=UTF8",
		// C sorts by bytes, the same on every machine, so a test of an ORDER BY
		// does not pass on a laptop and fail in CI.
		"--locale=C",
		// Nothing here must survive a power cut, and skipping the fsyncs is
		// most of initdb's time.
		"--no-sync",
		"--no-instructions",
	)
	cmd.Dir = dir
	cmd.SysProcAttr = procAttr(owner)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w; its output ends with:\n%s", err, lastLines(out, logTailLines))
	}
	return nil
}

// start runs the server, retrying on a fresh port if another process took
// the one chosen.
func (c *Cluster) start(ctx context.Context, bin binaries, owner *account, dataDir string) error {
	const attempts = 3
	for attempt := 1; ; attempt++ {
		port, err := freePort(ctx)
		if err != nil {
			return err
		}
		err = c.startOn(ctx, bin, owner, dataDir, port)
		if err == nil || !errors.Is(err, errPortTaken) || attempt == attempts {
			return err
		}
		c.logger.Info("postgres cluster: port taken before the server bound it, retrying", "port", port)
	}
}

func (c *Cluster) startOn(ctx context.Context, bin binaries, owner *account, dataDir string, port int) error {
	args := []string{
		"-D", dataDir,
		"-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		// No Unix socket: nothing left in /var/run or /tmp, and no clash with a
		// system server's socket on the same port number.
		"-c", "unix_socket_directories=",
		// Speed over durability: the data is thrown away on Stop, so losing the
		// last commits in a crash costs nothing, while waiting for the disk on
		// every commit would slow every test that writes.
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		// Parallel tests each hold a pool of connections; the default of 100
		// runs out.
		"-c", "max_connections=200",
	}
	// ctx bounds the start-up only; the server must outlive it, so it must not
	// kill the server when it ends. Stop does that.
	cmd := exec.CommandContext(context.WithoutCancel(ctx), bin.postgres, args...)
	cmd.Dir = c.dir
	cmd.Stdout = c.logFile
	cmd.Stderr = c.logFile
	cmd.SysProcAttr = procAttr(owner)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		// The exit status says nothing the server log does not.
		_ = cmd.Wait()
		close(exited)
	}()
	c.server, c.exited = cmd, exited
	c.base.Host = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	err := c.waitReady(ctx)
	if err == nil {
		return nil
	}
	// Immediate shutdown (SIGQUIT): a server that failed to start has nothing
	// worth a clean stop. The caller's ctx may be what ended, so bound the
	// wait on our own.
	haltCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
	defer cancel()
	_ = c.signalAndWait(haltCtx, syscall.SIGQUIT)

	tail := c.logTail()
	if strings.Contains(tail, "Address already in use") {
		return fmt.Errorf("%w: %d", errPortTaken, port)
	}
	return fmt.Errorf("%w; server log %s ends with:\n%s", err, c.logPath, tail)
}

// waitReady polls until the server accepts a login. A login, not just an
// open port: the server listens before recovery ends and would answer "the
// database system is starting up".
func (c *Cluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	cfg, err := pgx.ParseConfig(c.URL("postgres"))
	if err != nil {
		// Never the parse error itself: it quotes the URL, password included.
		return errors.New("build connection config for readiness check")
	}
	cfg.ConnectTimeout = 2 * time.Second

	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-c.exited:
			return errors.New("postgres exited during start-up")
		case <-ctx.Done():
			return fmt.Errorf("postgres did not accept connections: %w (last attempt: %w)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// signalAndWait sends sig to the server and waits for it to exit, killing it
// if ctx ends first.
func (c *Cluster) signalAndWait(ctx context.Context, sig os.Signal) error {
	select {
	case <-c.exited:
		return nil
	default:
	}
	if err := c.server.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal postgres: %w", err)
	}
	select {
	case <-c.exited:
		return nil
	case <-ctx.Done():
		_ = c.server.Process.Kill()
		<-c.exited
		return fmt.Errorf("postgres did not shut down in time and was killed: %w", ctx.Err())
	}
}

// logTail returns the end of the server log, for errors. The log holds
// startup messages and SQL errors, never the password: it is only ever sent
// in the startup packet's authentication exchange, which is not logged.
func (c *Cluster) logTail() string {
	data, err := os.ReadFile(c.logPath)
	if err != nil {
		return fmt.Sprintf("(server log unreadable: %v)", err)
	}
	return lastLines(data, logTailLines)
}

func lastLines(data []byte, n int) string {
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// freePort asks the kernel for a free port on 127.0.0.1. The listener is
// closed before the server binds, so the port can be lost; start retries.
func freePort(ctx context.Context) (int, error) {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	return port, nil
}
