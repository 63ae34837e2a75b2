package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/postgres/cluster"
)

// benchDatabase is a database of its own on the server DATABASE_URL names,
// or on a throwaway cluster when it is unset; close drops it (or the whole
// cluster). Its tables belong to the owner role and the secure server
// connects as the service's role, as in production; the dataset, pgbench
// and the baseline use the superuser, which row-level security does not
// bind.
type benchDatabase struct {
	url     string // the superuser's; holds a password: never printed
	service string // the service's role (postgres.ServiceRole)
	// postmaster is the database server's process id when the bench
	// started the server itself, so that its CPU can be read from /proc;
	// 0 for a server of DATABASE_URL's.
	postmaster int
	close      func()
}

func openDatabase(ctx context.Context, adminURL string, logger *slog.Logger) (benchDatabase, error) {
	var stopCluster func()
	postmaster := 0
	if adminURL == "" {
		c, err := cluster.Start(ctx, cluster.Options{Logger: logger})
		if err != nil {
			return benchDatabase{}, fmt.Errorf("start a throwaway PostgreSQL (or set DATABASE_URL): %w", err)
		}
		adminURL = c.URL("postgres")
		postmaster = postmasterPID(c.Dir())
		stopCluster = func() {
			if err := c.Stop(context.WithoutCancel(ctx)); err != nil {
				logger.Error("stop cluster", "error", err)
			}
		}
	}
	u, err := url.Parse(adminURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		// Never the parse error: it quotes the URL, password included.
		return benchDatabase{}, errors.New("DATABASE_URL must be a postgres:// URL")
	}
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return benchDatabase{}, fmt.Errorf("connect to the admin database: %w", err)
	}
	roles, err := postgres.ProvisionRoles(ctx, admin, adminURL)
	if err != nil {
		_ = admin.Close(ctx)
		return benchDatabase{}, err
	}
	name := "bulwark_bench_" + strings.ToLower(rand.Text()[:10])
	create := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize() + " OWNER " + pgx.Identifier{postgres.OwnerRole}.Sanitize()
	if _, err := admin.Exec(ctx, create); err != nil {
		_ = admin.Close(ctx)
		return benchDatabase{}, fmt.Errorf("create database %s: %w", name, err)
	}
	u.Path = "/" + name
	logins, err := roles.Logins(u.String(), name)
	if err != nil {
		_ = admin.Close(ctx)
		return benchDatabase{}, err
	}
	db := benchDatabase{url: u.String(), service: logins.Service, postmaster: postmaster, close: func() {
		dropCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if _, err := admin.Exec(dropCtx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			logger.Error("drop bench database", "database", name, "error", err)
		}
		_ = admin.Close(dropCtx)
		if stopCluster != nil {
			stopCluster()
		}
	}}
	if _, err := postgres.Migrate(ctx, logins.Owner); err != nil {
		db.close()
		return benchDatabase{}, err
	}
	return db, nil
}

// withPoolSize sets pgxpool's pool_max_conns on the URL the servers get.
func withPoolSize(databaseURL string, size int) string {
	if size <= 0 {
		return databaseURL
	}
	u, err := url.Parse(databaseURL)
	if err != nil {
		return databaseURL
	}
	q := u.Query()
	q.Set("pool_max_conns", fmt.Sprint(size))
	u.RawQuery = q.Encode()
	return u.String()
}

// postmasterPID reads the server's process id from its data directory
// (the first line of postmaster.pid); 0 if it cannot.
func postmasterPID(clusterDir string) int {
	raw, err := os.ReadFile(filepath.Join(clusterDir, "data", "postmaster.pid")) //nolint:gosec // the cluster the bench started.
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(raw), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return 0
	}
	return pid
}
