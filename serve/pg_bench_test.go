package serve

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lakectl/lakectl/catalog"
	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
	"github.com/lakectl/lakectl/pgwire"
	"github.com/lakectl/lakectl/views"
)

// benchPGClients is how many dashboard connections query the Postgres port at once:
// a BI tool holds a pool of a few connections per dashboard.
const benchPGClients = 50

// benchPGQueries are what a BI tool's panels send over the example views once its
// macros are expanded (Grafana's $__timeFilter is a BETWEEN of two literals): time
// ranges, an aggregate and a one-row panel. Each client runs them in turn.
var benchPGQueries = []string{
	`SELECT hour AS "time", event_type, events FROM views.hourly_trends WHERE hour BETWEEN '2026-11-20T00:00:00Z' AND '2026-11-21T00:00:00Z' ORDER BY 1`,
	`SELECT event_type, sum(events) AS events, sum(revenue) AS revenue FROM views.hourly_trends GROUP BY event_type ORDER BY events DESC`,
	`SELECT event_date, events, revenue, users FROM views.daily_summary WHERE event_date >= DATE '2026-10-21' ORDER BY event_date`,
	`SELECT events, active_users, revenue, newest_event_at FROM views.realtime_kpis`,
}

// benchViews are the views benchPGQueries read.
var benchViews = []string{"hourly_trends", "daily_summary", "realtime_kpis"}

// BenchmarkPGDashboardQueries has 50 pgx connections run a BI tool's queries over
// the example views through the Postgres port on loopback for a bounded time, then
// the same clients the same SQL directly through DuckDB for as long: sessions that
// hold the views already registered, as many as the port runs queries at once. The
// difference is what the port adds: the wire protocol, the catalog, and a sealed
// session per query with its tables pinned. It reports latency percentiles,
// queries/s, errors (which fail it) and peak RSS of each.
func BenchmarkPGDashboardQueries(b *testing.B) {
	l, _ := servedLake(b, Auth{})
	d := benchDuration(b)
	store := l.store()
	c := cache.New(store, filepath.Join(b.TempDir(), "cache"), 0)
	addr := startBenchPG(b, l, store, c)

	for b.Loop() {
		pg := runClients(b, d, func(ctx context.Context) (func(context.Context, string) error, func(), error) {
			conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://bench:bench-pass@%s/lake?sslmode=disable", addr))
			if err != nil {
				return nil, nil, err
			}
			return func(ctx context.Context, q string) error { return drainPG(ctx, conn, q) }, func() { conn.Close(context.Background()) }, nil
		})
		pool := directSessions(b, store, c)
		direct := runClients(b, d, func(context.Context) (func(context.Context, string) error, func(), error) {
			return func(ctx context.Context, q string) error {
				sess := <-pool
				defer func() { pool <- sess }()
				return drainSQL(ctx, sess, q)
			}, func() {}, nil
		})
		for _, r := range []struct {
			name string
			s    clientStats
		}{{"pg", pg}, {"duckdb", direct}} {
			b.ReportMetric(ms(percentile(r.s.lat, 50)), r.name+"_p50_ms")
			b.ReportMetric(ms(percentile(r.s.lat, 99)), r.name+"_p99_ms")
			b.ReportMetric(float64(len(r.s.lat))/d.Seconds(), r.name+"_queries/s")
			b.ReportMetric(float64(len(r.s.errs)), r.name+"_errors")
			b.ReportMetric(float64(r.s.rss)/(1<<20), r.name+"_peak_rss_MiB")
			b.Logf("%s: %d clients for %s: %d queries (%.0f/s), p50 %.1f ms, p99 %.1f ms, %d errors, peak RSS %d MiB",
				r.name, benchPGClients, d, len(r.s.lat), float64(len(r.s.lat))/d.Seconds(), ms(percentile(r.s.lat, 50)),
				ms(percentile(r.s.lat, 99)), len(r.s.errs), r.s.rss>>20)
			if len(r.s.errs) > 0 {
				b.Errorf("%s: %d errors, the first: %s", r.name, len(r.s.errs), r.s.errs[0])
			}
		}
		b.ReportMetric(ms(percentile(pg.lat, 50))/max(ms(percentile(direct.lat, 50)), 1e-3), "p50_ratio")
	}
}

// startBenchPG serves the lake's views on a loopback Postgres port to user bench until
// the benchmark ends, and returns the address.
func startBenchPG(b *testing.B, l *testLake, store lake.Store, c *cache.Cache) string {
	var reads []engine.TableName
	for _, v := range benchViews {
		reads = append(reads, engine.TableName{Schema: "views", Name: v})
	}
	srv, err := pgwire.New(pgwire.Config{
		Tables: pgwire.CatalogTables(func() *catalog.Catalog {
			return catalog.ForPipeline(l.p, catalog.Config{Store: store, Cache: c, URL: l.p.Store.OpenURL()})
		}),
		Users:  map[string]pgwire.User{"bench": {Password: "bench-pass", Reads: reads}},
		Engine: engine.Config{MemoryLimit: "256MiB", Threads: 1},
	})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("serve pg: %v", err)
		}
	})
	return ln.Addr().String()
}

// directSessions are as many sealed DuckDB sessions as the Postgres port runs queries
// at once (runtime.NumCPU()), each holding the views, pinned to their latest
// snapshots; closed when the benchmark ends.
func directSessions(b *testing.B, store lake.Store, c *cache.Cache) chan *engine.Session {
	ctx := b.Context()
	pool := make(chan *engine.Session, runtime.NumCPU())
	for range cap(pool) {
		sess, err := engine.Open(ctx, engine.Config{MemoryLimit: "256MiB", Threads: 1})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { sess.Close() })
		for _, v := range benchViews {
			tb := lake.NewTable(store, views.Root(v))
			snap, err := tb.Latest(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if err := sess.RegisterTable(ctx, "views", v, snap, engine.TableFiles(tb, c)); err != nil {
				b.Fatal(err)
			}
		}
		if err := sess.Seal(ctx, engine.SealOptions{}); err != nil {
			b.Fatal(err)
		}
		pool <- sess
	}
	return pool
}

// clientStats is what the clients of one run saw: each query's latency, the errors
// and the process's peak RSS.
type clientStats struct {
	lat  []time.Duration
	errs []string
	rss  int64
}

// runClients has benchPGClients clients, each made by open, run benchPGQueries in
// turn for d.
func runClients(b *testing.B, d time.Duration, open func(context.Context) (query func(context.Context, string) error, close func(), err error)) clientStats {
	ctx := b.Context()
	resetPeakRSS()
	results := make([]clientStats, benchPGClients)
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for i := range benchPGClients {
		wg.Go(func() {
			r := &results[i]
			query, closeClient, err := open(ctx)
			if err != nil {
				r.errs = append(r.errs, err.Error())
				return
			}
			defer closeClient()
			for n := i; time.Now().Before(deadline); n++ {
				start := time.Now()
				if err := query(ctx, benchPGQueries[n%len(benchPGQueries)]); err != nil {
					r.errs = append(r.errs, err.Error())
					continue
				}
				r.lat = append(r.lat, time.Since(start))
			}
		})
	}
	wg.Wait()
	all := clientStats{rss: peakRSS()}
	for _, r := range results {
		all.lat, all.errs = append(all.lat, r.lat...), append(all.errs, r.errs...)
	}
	return all
}

// drainPG runs q over conn and reads every row.
func drainPG(ctx context.Context, conn *pgx.Conn, q string) error {
	rows, err := conn.Query(ctx, q)
	if err != nil {
		return err
	}
	for rows.Next() {
		if _, err := rows.Values(); err != nil {
			rows.Close()
			return err
		}
	}
	rows.Close()
	return rows.Err()
}

// drainSQL runs q in sess and reads every row.
func drainSQL(ctx context.Context, sess *engine.Session, q string) error {
	rows, err := sess.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	for i := range vals {
		vals[i] = new(any)
	}
	for rows.Next() {
		if err := rows.Scan(vals...); err != nil {
			return err
		}
	}
	return rows.Err()
}
