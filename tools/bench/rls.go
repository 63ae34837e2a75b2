package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// rlsCost measures 6, the price of the second wall (docs/01-bola.md):
// the secure server as the service's role, under row-level security, and
// the same binary on a login that bypasses it, in alternating closed-loop
// rounds on the same dataset. It reports ratios only: row-level security
// is not optional, so there is no target to meet.
//
// The policies run in the database, so the database server's CPU per
// request is measured too (every process of the cluster the bench started,
// from /proc), beside the API server's own.
func (b *bench) rlsCost(ctx context.Context) error {
	with, without := b.getOrder(true), b.targetOn(b.noRLS)
	b.warm(ctx, with, without)
	var tput, cpu, dbCPU [2][]float64 // [0] with row-level security, [1] without
	for i := range b.opt.rounds {
		for j := range 2 {
			k := (i + j) % 2
			srv, tr, name := b.secure, with, "with RLS   "
			if k == 1 {
				srv, tr, name = b.noRLS, without, "without RLS"
			}
			dbBefore := b.databaseCPU()
			r, c, err := b.capacity(ctx, srv, tr)
			if err != nil {
				return err
			}
			db := float64(b.databaseCPU().since(dbBefore).Microseconds()) / float64(max(r.Requests, 1))
			tput[k], cpu[k], dbCPU[k] = append(tput[k], r.Throughput), append(cpu[k], c), append(dbCPU[k], db)
			b.logf("round %d %s closed loop c=%d: %s; server CPU %.0f µs/req, database CPU %.0f µs/req", i+1, name, b.opt.concurrency, r, c, db)
		}
	}
	dbDetail := "database CPU not measured (DATABASE_URL names a server the bench did not start)"
	if b.postmaster != 0 {
		dbDetail = fmt.Sprintf("database CPU per request %.0f vs %.0f µs (%.2f×)", median(dbCPU[0]), median(dbCPU[1]), median(dbCPU[0])/median(dbCPU[1]))
	}
	b.add(row{id: "6", what: "GET /orders/{id} throughput, with row-level security ÷ without", value: median(tput[0]) / median(tput[1]), info: true,
		detail: fmt.Sprintf("%.0f vs %.0f req/s, closed loop, %d in flight, the same binary as the service's role and as the superuser; "+
			"server CPU per request %.0f vs %.0f µs (%.2f×); %s",
			median(tput[0]), median(tput[1]), b.opt.concurrency, median(cpu[0]), median(cpu[1]), median(cpu[0])/median(cpu[1]), dbDetail)})
	return nil
}

// targetOn is getOrder aimed at another secure server.
func (b *bench) targetOn(srv *server) vegeta.Targeter {
	secure := b.getOrder(true)
	return func(t *vegeta.Target) error {
		if err := secure(t); err != nil {
			return err
		}
		t.URL = srv.base + strings.TrimPrefix(t.URL, b.secure.base)
		return nil
	}
}

// cpuSnapshot is the database server's CPU use at one moment: each live
// process's (the postmaster and its children, the backends of both
// servers' pools among them), and what the postmaster's exited children
// used in their lives, which the kernel adds to its cutime and cstime when
// it reaps them.
type cpuSnapshot struct {
	procs  map[int]time.Duration
	reaped time.Duration
}

// since is the database's CPU between before and s. A backend that ended in
// between (pgbench's sixteen end after each pgbench round) counts for the
// part of its life after before: its whole life arrives in reaped, and
// what it had used by before is taken off again. Summing only the live
// processes would instead take its whole life out of the round, and a
// round could come out negative.
func (s cpuSnapshot) since(before cpuSnapshot) time.Duration {
	total := s.reaped - before.reaped
	for pid, cpu := range s.procs {
		total += cpu - before.procs[pid] // a process born since: all of it
	}
	for pid, cpu := range before.procs {
		if _, alive := s.procs[pid]; !alive {
			total -= cpu
		}
	}
	return total
}

// databaseCPU reads the database server's CPU use now, from /proc.
func (b *bench) databaseCPU() cpuSnapshot {
	snap := cpuSnapshot{procs: map[int]time.Duration{}}
	if b.postmaster == 0 {
		return snap
	}
	ticks := func(fields []string) time.Duration {
		var d time.Duration
		for _, v := range fields {
			n, _ := strconv.ParseInt(v, 10, 64)
			d += time.Duration(n) * 10 * time.Millisecond // USER_HZ is 100
		}
		return d
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		raw, err := os.ReadFile(p) //nolint:gosec // /proc, read only.
		if err != nil {
			continue // exited meanwhile
		}
		f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
		if len(f) < 15 {
			continue
		}
		// After the command: state, ppid, …; utime and stime are the 12th
		// and 13th fields, cutime and cstime the 14th and 15th.
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if ppid, _ := strconv.Atoi(f[1]); pid != b.postmaster && ppid != b.postmaster {
			continue
		}
		snap.procs[pid] = ticks(f[11:13])
		if pid == b.postmaster {
			snap.reaped = ticks(f[13:15])
		}
	}
	return snap
}
