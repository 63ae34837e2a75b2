package postgres

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// PoolCollector exports pool's statistics (pgxpool.Stat) at each scrape:
// how many connections are busy, idle and open against the maximum, and
// how often and how long requests waited for one. A pool whose acquired
// connections sit at the maximum while empty acquires climb is the
// database capping the service (docs/operations.md).
func PoolCollector(pool *pgxpool.Pool) prometheus.Collector {
	return &poolCollector{stat: pool.Stat, series: []poolSeries{
		gauge("acquired_connections", "Connections in use by requests now.", func(s *pgxpool.Stat) float64 { return float64(s.AcquiredConns()) }),
		gauge("idle_connections", "Open connections waiting for a request now.", func(s *pgxpool.Stat) float64 { return float64(s.IdleConns()) }),
		gauge("total_connections", "Open connections now, of any state.", func(s *pgxpool.Stat) float64 { return float64(s.TotalConns()) }),
		gauge("max_connections", "The pool's maximum number of connections.", func(s *pgxpool.Stat) float64 { return float64(s.MaxConns()) }),
		counter("acquires_total", "Connections handed to requests.", func(s *pgxpool.Stat) float64 { return float64(s.AcquireCount()) }),
		counter("empty_acquires_total", "Acquires that had to wait because no idle connection was there.", func(s *pgxpool.Stat) float64 { return float64(s.EmptyAcquireCount()) }),
		counter("canceled_acquires_total", "Acquires given up because the request's context ended first.", func(s *pgxpool.Stat) float64 { return float64(s.CanceledAcquireCount()) }),
		counter("acquire_wait_seconds_total", "Time requests spent waiting for a connection.", func(s *pgxpool.Stat) float64 { return s.AcquireDuration().Seconds() }),
	}}
}

type poolSeries struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(*pgxpool.Stat) float64
}

func gauge(name, help string, value func(*pgxpool.Stat) float64) poolSeries {
	return poolSeries{desc: prometheus.NewDesc("bulwark_db_pool_"+name, help, nil, nil), kind: prometheus.GaugeValue, value: value}
}

func counter(name, help string, value func(*pgxpool.Stat) float64) poolSeries {
	return poolSeries{desc: prometheus.NewDesc("bulwark_db_pool_"+name, help, nil, nil), kind: prometheus.CounterValue, value: value}
}

type poolCollector struct {
	stat   func() *pgxpool.Stat
	series []poolSeries
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, s := range c.series {
		ch <- s.desc
	}
}

// Collect reads one snapshot of the pool, so the series of a scrape agree.
func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	stat := c.stat()
	for _, s := range c.series {
		ch <- prometheus.MustNewConstMetric(s.desc, s.kind, s.value(stat))
	}
}
