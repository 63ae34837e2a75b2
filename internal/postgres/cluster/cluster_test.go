package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bulwark-dev/bulwark/internal/postgres/cluster"
)

// startCluster starts a cluster or, where no server binaries are installed,
// skips, except in CI, where a skipped integration test would hide a broken
// pipeline.
func startCluster(t *testing.T, opts cluster.Options) *cluster.Cluster {
	t.Helper()
	began := time.Now()
	c, err := cluster.Start(t.Context(), opts)
	if errors.Is(err, cluster.ErrNoBinaries) && os.Getenv("CI") == "" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("cluster %v started in %v", c, time.Since(began).Round(time.Millisecond))
	return c
}

func TestCluster(t *testing.T) {
	// A Dir made by t.TempDir is 0700: as root, the server's user cannot
	// enter it, which exercises the fallback to os.TempDir().
	requested := t.TempDir()
	c := startCluster(t, cluster.Options{
		Dir:    requested,
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
	})
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = c.Stop(context.Background())
		}
	})

	t.Run("uses the requested directory when the server can reach it", func(t *testing.T) {
		inRequested := strings.HasPrefix(c.Dir(), requested+string(filepath.Separator))
		if want := os.Geteuid() != 0; inRequested != want {
			t.Errorf("cluster dir %s under requested %s = %v, want %v", c.Dir(), requested, inRequested, want)
		}
	})

	t.Run("accepts the superuser", func(t *testing.T) {
		conn, err := pgx.Connect(t.Context(), c.URL("postgres"))
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		defer func() { _ = conn.Close(context.Background()) }()
		var one int
		if err := conn.QueryRow(t.Context(), "SELECT 1").Scan(&one); err != nil || one != 1 {
			t.Fatalf("SELECT 1 = %d, %v; want 1, nil", one, err)
		}
	})

	t.Run("refuses a wrong password", func(t *testing.T) {
		u, err := url.Parse(c.URL("postgres"))
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.UserPassword(u.User.Username(), "wrong")
		conn, err := pgx.Connect(t.Context(), u.String())
		if err == nil {
			_ = conn.Close(context.Background())
			t.Fatal("connected with a wrong password")
		}
	})

	t.Run("never prints the password", func(t *testing.T) {
		u, err := url.Parse(c.URL("postgres"))
		if err != nil {
			t.Fatal(err)
		}
		password, _ := u.User.Password()
		if len(password) < 20 {
			t.Fatalf("password has %d characters, want at least 20", len(password))
		}
		var logged strings.Builder
		slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "cluster", c)
		slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "cluster", c)
		for name, s := range map[string]string{
			"String": c.String(),
			"%v":     fmt.Sprintf("%v", c),
			"%+v":    fmt.Sprintf("%+v", c),
			"%#v":    fmt.Sprintf("%#v", c),
			"slog":   logged.String(),
		} {
			if strings.Contains(s, password) {
				t.Errorf("%s reveals the password: %s", name, s)
			}
		}
	})

	t.Run("stop removes everything, twice", func(t *testing.T) {
		began := time.Now()
		if err := c.Stop(context.Background()); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		stopped = true
		t.Logf("stopped in %v", time.Since(began).Round(time.Millisecond))
		if _, err := os.Stat(c.Dir()); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("cluster dir after Stop: %v, want it gone", err)
		}
		if err := c.Stop(context.Background()); err != nil {
			t.Errorf("second Stop: %v, want nil", err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		if conn, err := pgx.Connect(ctx, c.URL("postgres")); err == nil {
			_ = conn.Close(context.Background())
			t.Error("server still accepts connections after Stop")
		}
	})
}
