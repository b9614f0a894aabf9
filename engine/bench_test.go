package engine

import (
	"testing"
	"time"

	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
	lakefs "github.com/lakectl/lakectl/lake/fs"
)

// benchRows is the size of the benchmark table: big enough that the scan, not the
// planning, dominates.
const benchRows = 2_000_000

// BenchmarkRegisteredView reads one table two ways in the same run: through the view
// RegisterTable makes (the log's partition values, read from the paths that say them)
// and through a raw read_parquet over the same files with DuckDB's own Hive
// partitioning. It reports both times and their ratio, view/raw: the cost of reading a
// Delta table as lakectl does instead of as plain files (the target is at most 1.1).
func BenchmarkRegisteredView(b *testing.B) {
	ctx := b.Context()
	s, err := Open(ctx, Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	store, err := lakefs.New(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	q := `SELECT i AS id, random() AS v, 'user-' || (i % 1000) AS u,
	             TIMESTAMPTZ '2026-11-21 00:00:00+00' + i * INTERVAL 1 SECOND AS ts,
	             CAST(i % 24 AS INTEGER) AS hour
	      FROM range($1) AS t(i)`
	schema, err := s.QuerySchema(ctx, q, benchRows)
	if err != nil {
		b.Fatal(err)
	}
	ss, _ := schema.JSON()
	table := lake.NewTable(store, "silver/bench")
	tx := table.Begin(nil)
	tx.SetMetadata(lake.Metadata{SchemaString: ss, PartitionColumns: []string{"hour"}})
	adds, err := s.WriteFiles(ctx, table, []string{"hour"}, q, benchRows)
	if err != nil {
		b.Fatal(err)
	}
	tx.Add(adds...)
	if _, err := tx.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	snap, err := table.Latest(ctx)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := s.RegisterTable(ctx, "silver", "bench", snap, TableFiles(table, cache.New(store, "", 0))); err != nil {
		b.Fatal(err)
	}
	register := time.Since(start)

	paths := make([]string, len(adds))
	for i, a := range adds {
		paths[i] = store.LocalPath(table.Key(a.DecodedPath()))
	}
	raw := sqlfrag.Fmt("read_parquet(%s, hive_partitioning = true, hive_types = {'hour': INTEGER})", sqlfrag.StrList(paths)).String()
	const agg = `SELECT count(*), sum(v), count(DISTINCT u), max(ts), sum(hour) FROM `
	viewQ, rawQ := agg+"silver.bench", agg+raw

	var viewTime, rawTime time.Duration
	run := func(q string) time.Duration {
		start := time.Now()
		var n, distinct, hours int64
		var sum float64
		var maxTS time.Time
		if err := s.QueryRowContext(ctx, q).Scan(&n, &sum, &distinct, &maxTS, &hours); err != nil {
			b.Fatal(err)
		}
		if n != benchRows {
			b.Fatalf("%s: %d rows, want %d", q[:40], n, benchRows)
		}
		return time.Since(start)
	}
	run(viewQ) // warm the OS page cache for both
	for b.Loop() {
		viewTime += run(viewQ)
		rawTime += run(rawQ)
	}
	b.ReportMetric(float64(viewTime.Nanoseconds())/float64(b.N), "view-ns/op")
	b.ReportMetric(float64(rawTime.Nanoseconds())/float64(b.N), "raw-ns/op")
	b.ReportMetric(float64(viewTime)/float64(rawTime), "view/raw")
	b.ReportMetric(float64(register.Microseconds()), "register-µs")
	b.ReportMetric(float64(len(adds)), "files")
}
