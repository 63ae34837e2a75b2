package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bulwark-dev/bulwark/internal/postgres"
	"github.com/bulwark-dev/bulwark/internal/postgres/cluster"
)

// benchDatabase is a database of its own on the server DATABASE_URL names,
// or on a throwaway cluster when it is unset; close drops it (or the whole
// cluster).
type benchDatabase struct {
	url   string // holds a password: never printed
	close func()
}

func openDatabase(ctx context.Context, adminURL string, logger *slog.Logger) (benchDatabase, error) {
	var stopCluster func()
	if adminURL == "" {
		c, err := cluster.Start(ctx, cluster.Options{Logger: logger})
		if err != nil {
			return benchDatabase{}, fmt.Errorf("start a throwaway PostgreSQL (or set DATABASE_URL): %w", err)
		}
		adminURL = c.URL("postgres")
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
	name := "bulwark_bench_" + strings.ToLower(rand.Text()[:10])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		_ = admin.Close(ctx)
		return benchDatabase{}, fmt.Errorf("create database %s: %w", name, err)
	}
	u.Path = "/" + name
	db := benchDatabase{url: u.String(), close: func() {
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
	if _, err := postgres.Migrate(ctx, db.url); err != nil {
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
