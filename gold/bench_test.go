package gold

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
	"github.com/lakectl/lakectl/lake/fs"
	"github.com/lakectl/lakectl/pipeline/jobenv"
	"github.com/lakectl/lakectl/silver"
)

// BenchmarkGoldDay measures `run gold` of daily_metrics for one day over N Silver
// rows (default 10 million, LAKECTL_BENCH_GOLD_ROWS to change) against the same
// aggregation written by hand in DuckDB over the same Silver files, written as zstd
// Parquet, in the same process.
//
// Reported: gold_s, raw_s and ratio (target ≤ 1.2).
func BenchmarkGoldDay(b *testing.B) {
	n := int64(10_000_000)
	if v := os.Getenv("LAKECTL_BENCH_GOLD_ROWS"); v != "" {
		var err error
		if n, err = strconv.ParseInt(v, 10, 64); err != nil {
			b.Fatalf("LAKECTL_BENCH_GOLD_ROWS: %v", err)
		}
	}
	ctx := b.Context()
	p := examplePipeline(b, nil)
	dir := filepath.Dir(p.File)
	root := filepath.Join(dir, "lake")
	store, err := fs.New(root)
	if err != nil {
		b.Fatal(err)
	}
	ecfg := engine.Config{MemoryLimit: "8GiB", Threads: 2}
	files := fillSilver(b, store, root, ecfg, n)
	ms, err := Load(ctx, p, ecfg)
	if err != nil {
		b.Fatal(err)
	}
	job := NewJob(Config{Env: jobenv.Env{Store: store, Pipeline: p, Cache: cache.New(store, "", 0), Engine: ecfg}, Models: ms})
	d := day("2026-11-21")
	for b.Loop() {
		start := time.Now()
		// Bronze is empty here: the day counts as incomplete, so it is forced.
		if _, err := job.RunDay(ctx, "daily_metrics", d, RunOptions{Force: true}); err != nil {
			b.Fatal(err)
		}
		goldTime := time.Since(start)
		rawTime := rawDaily(b, ecfg, files, filepath.Join(dir, "raw"))
		b.ReportMetric(goldTime.Seconds(), "gold_s")
		b.ReportMetric(rawTime.Seconds(), "raw_s")
		b.ReportMetric(goldTime.Seconds()/rawTime.Seconds(), "ratio")
		// Another silver commit, so the next iteration builds the day again.
		b.StopTimer()
		touchSilver(b, store)
		b.StartTimer()
	}
}

// fillSilver writes n rows of day 2026-11-21 into silver/events (in the store at
// the local directory root), across its 24 event hours, and returns the paths of the
// files.
func fillSilver(b *testing.B, store lake.Store, root string, cfg engine.Config, n int64) []string {
	sess, err := engine.Open(b.Context(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Close()
	t := lake.NewTable(store, silver.Root("events"))
	var paths []string
	for _, a := range commitSilverDay(b, sess, t, day("2026-11-21"), n, 0) {
		paths = append(paths, filepath.Join(root, t.Key(a.DecodedPath())))
	}
	return paths
}

// commitSilverDay appends n rows of day (event ids from first on) to Silver in one
// commit that records the partitions it wrote, as the Silver job does.
func commitSilverDay(b *testing.B, sess *engine.Session, t *lake.Table, d Day, n, first int64) []lake.Add {
	ctx := b.Context()
	q := `SELECT 'e' || (i + $2) AS event_id, 'u' || (i % 10000) AS user_id,
  ['page_view', 'click', 'add_to_cart', 'purchase', 'refund'][1 + i % 5] AS event_type,
  CAST((i % 10000) / 100 AS DECIMAL(18, 2)) AS amount,
  CAST($3 AS DATE)::TIMESTAMPTZ + to_microseconds(CAST(i * 86400000000 // $1 AS BIGINT)) AS "timestamp",
  CAST($3 AS DATE) AS event_date, CAST(i * 24 // $1 AS INTEGER) AS event_hour
FROM range($1) AS r(i)`
	args := []any{n, first, d.String()}
	adds, err := sess.WriteFiles(ctx, t, []string{silver.ColEventDate, silver.ColEventHour}, q, args...)
	if err != nil {
		b.Fatal(err)
	}
	snap, err := latestOrNil(ctx, t)
	if err != nil {
		b.Fatal(err)
	}
	tx := t.Begin(snap)
	if snap == nil {
		schema, err := sess.QuerySchema(ctx, q, args...)
		if err != nil {
			b.Fatal(err)
		}
		s, _ := schema.JSON()
		tx.SetMetadata(lake.Metadata{Name: "events", SchemaString: s, PartitionColumns: []string{silver.ColEventDate, silver.ColEventHour}})
	}
	tx.Add(adds...)
	var parts []map[string]any
	for h := range min(n, 24) {
		parts = append(parts, map[string]any{silver.ColEventDate: d.String(), silver.ColEventHour: h})
	}
	tx.Info("partitions", parts)
	if _, err := tx.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	return adds
}

// BenchmarkGoldStale fills Silver with 30 days of N rows each (default 300,000,
// LAKECTL_BENCH_GOLD_DAY_ROWS to change), builds every day of daily_metrics, then
// lands late rows in one day and measures `run gold --stale` against a build of that
// one day: staleness costs the log of the new commits, not the table's size.
//
// Reported: stale_s, day_s and ratio (target ≤ 1.2).
func BenchmarkGoldStale(b *testing.B) {
	n := int64(300_000)
	if v := os.Getenv("LAKECTL_BENCH_GOLD_DAY_ROWS"); v != "" {
		var err error
		if n, err = strconv.ParseInt(v, 10, 64); err != nil {
			b.Fatalf("LAKECTL_BENCH_GOLD_DAY_ROWS: %v", err)
		}
	}
	ctx := b.Context()
	p := examplePipeline(b, nil)
	store, err := fs.New(filepath.Join(filepath.Dir(p.File), "lake"))
	if err != nil {
		b.Fatal(err)
	}
	ecfg := engine.Config{MemoryLimit: "8GiB", Threads: 2}
	sess, err := engine.Open(ctx, ecfg)
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Close()
	t := lake.NewTable(store, silver.Root("events"))
	first := day("2026-10-23")
	for i := range 30 {
		commitSilverDay(b, sess, t, first.Add(i), n, int64(i)*n)
	}
	ms, err := Load(ctx, p, ecfg)
	if err != nil {
		b.Fatal(err)
	}
	job := NewJob(Config{Env: jobenv.Env{Store: store, Pipeline: p, Cache: cache.New(store, "", 0), Engine: ecfg}, Models: ms})
	// Bronze is empty here, so no day counts as complete: every build is forced.
	if err := job.RunStale(ctx, []string{"daily_metrics"}, true, func(string, StaleDay, *Summary) {}); err != nil {
		b.Fatal(err)
	}
	late := first.Add(15)
	next := int64(30) * n
	for b.Loop() {
		commitSilverDay(b, sess, t, late, 100, next)
		next += 100
		start := time.Now()
		rebuilt := 0
		if err := job.RunStale(ctx, []string{"daily_metrics"}, true, func(string, StaleDay, *Summary) { rebuilt++ }); err != nil {
			b.Fatal(err)
		}
		staleTime := time.Since(start)
		if rebuilt != 1 {
			b.Fatalf("--stale rebuilt %d days, want 1", rebuilt)
		}
		commitSilverDay(b, sess, t, late, 100, next)
		next += 100
		start = time.Now()
		if _, err := job.RunDay(ctx, "daily_metrics", late, RunOptions{Force: true}); err != nil {
			b.Fatal(err)
		}
		dayTime := time.Since(start)
		b.ReportMetric(staleTime.Seconds(), "stale_s")
		b.ReportMetric(dayTime.Seconds(), "day_s")
		b.ReportMetric(staleTime.Seconds()/dayTime.Seconds(), "ratio")
	}
}

// touchSilver commits nothing but a txn, so Silver's version moves on.
func touchSilver(b *testing.B, store lake.Store) {
	t := lake.NewTable(store, silver.Root("events"))
	snap, err := t.Latest(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	tx := t.Begin(snap)
	tx.SetTxn("bench", snap.Version)
	if _, err := tx.Commit(b.Context()); err != nil {
		b.Fatal(err)
	}
}

// rawDaily is daily_metrics by hand over the Silver files, written as zstd Parquet.
func rawDaily(b *testing.B, cfg engine.Config, files []string, out string) time.Duration {
	ctx := b.Context()
	os.RemoveAll(out)
	sess, err := engine.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Close()
	start := time.Now()
	q := `COPY (SELECT event_date, event_type, count(DISTINCT user_id) AS unique_users, count(*) AS events,
  CAST(coalesce(sum(amount), 0) AS DECIMAL(18, 2)) AS total_amount,
  CAST(sum(amount) / count(amount) AS DECIMAL(18, 2)) AS avg_amount,
  min("timestamp") AS first_event_at, max("timestamp") AS last_event_at
FROM (SELECT *, DATE '2026-11-21' AS event_date FROM read_parquet(` + sqlfrag.StrList(files).String() + `))
GROUP BY ALL) TO ` + sqlfrag.Str(out).String() + ` (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (event_date))`
	if _, err := sess.ExecContext(ctx, q); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}
