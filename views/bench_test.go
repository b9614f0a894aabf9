package views

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/lakectl/lakectl/bronze"
	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
	"github.com/lakectl/lakectl/lake/fs"
	"github.com/lakectl/lakectl/pipeline/jobenv"
	"github.com/lakectl/lakectl/silver"
)

// BenchmarkRealtimeKPIsLiveTail measures a refresh of realtime_kpis over the live
// tail, with N rows in Silver (default 10 million, LAKECTL_BENCH_VIEW_SILVER_ROWS)
// and M rows of Bronze in the open hour (default 1 million,
// LAKECTL_BENCH_VIEW_TAIL_ROWS), against the same SQL written by hand in DuckDB
// over the same files (the tail's payloads parsed with ->>, deduplicated and
// deduplicated against Silver), its result written as zstd Parquet, in the same
// process. The two results must agree.
//
// Reported: view_s, raw_s and ratio.
func BenchmarkRealtimeKPIsLiveTail(b *testing.B) {
	n, m := benchRows(b, "LAKECTL_BENCH_VIEW_SILVER_ROWS", 10_000_000), benchRows(b, "LAKECTL_BENCH_VIEW_TAIL_ROWS", 1_000_000)
	ctx := b.Context()
	p := examplePipeline(b, nil)
	root := filepath.Join(p.Dir, "lake")
	store, err := fs.New(root)
	if err != nil {
		b.Fatal(err)
	}
	ecfg := engine.Config{MemoryLimit: "8GiB", Threads: 2}
	sess, err := engine.Open(ctx, ecfg)
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Close()
	if _, err := silver.LoadRef(ctx, store, sess, silver.RefSpecOf(*p.Ref("users"), p.Path(p.Ref("users").File)), time.Now()); err != nil {
		b.Fatal(err)
	}
	silverFiles := benchSilver(b, sess, store, root, n)
	bronzeFiles := benchBronze(b, sess, store, root, m)
	vs, err := Load(ctx, p, ecfg)
	if err != nil {
		b.Fatal(err)
	}
	job := NewJob(Config{Env: jobenv.Env{Store: store, Pipeline: p, Cache: cache.New(store, "", 0), Engine: ecfg}, Views: vs})
	for b.Loop() {
		start := time.Now()
		if _, err := job.Refresh(ctx, "realtime_kpis", Options{LiveTail: true, Full: true}); err != nil {
			b.Fatal(err)
		}
		viewTime := time.Since(start)
		raw, rawTime := rawKPIs(b, ecfg, silverFiles, bronzeFiles, filepath.Join(p.Dir, "raw"))
		b.StopTimer()
		if got := viewKPIs(b, sess, store); got != raw {
			b.Fatalf("realtime_kpis %s, by hand %s", got, raw)
		}
		b.StartTimer()
		b.ReportMetric(viewTime.Seconds(), "view_s")
		b.ReportMetric(rawTime.Seconds(), "raw_s")
		b.ReportMetric(viewTime.Seconds()/rawTime.Seconds(), "ratio")
	}
}

func benchRows(b *testing.B, env string, def int64) int64 {
	v := os.Getenv(env)
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		b.Fatalf("%s: %v", env, err)
	}
	return n
}

// benchSilver commits n Silver rows of 2026-11-21, as the Silver job writes them
// (every column, partitions recorded), and returns the files' paths.
func benchSilver(b *testing.B, sess *engine.Session, store lake.Store, root string, n int64) []string {
	ctx := b.Context()
	t := lake.NewTable(store, silver.Root("events"))
	q := `SELECT 'e' || i AS event_id, 'u' || (i % 10000) AS user_id,
  ['page_view', 'click', 'add_to_cart', 'purchase', 'refund'][1 + i % 5] AS event_type,
  CAST((i % 10000) / 100 AS DECIMAL(18, 2)) AS amount,
  TIMESTAMPTZ '2026-11-21 00:00:00+00' + to_microseconds(CAST(i * 86400000000 // $1 AS BIGINT)) AS "timestamp",
  'DE' AS country, 'free' AS plan, TIMESTAMPTZ '2026-11-21 00:00:00+00' + to_microseconds(CAST(i * 86400000000 // $1 AS BIGINT)) AS _ingested_at,
  'events' AS _topic, 0 AS _partition, i AS _offset,
  DATE '2026-11-21' AS event_date, CAST(i * 24 // $1 AS INTEGER) AS event_hour
FROM range($1) AS r(i)`
	adds, err := sess.WriteFiles(ctx, t, []string{silver.ColEventDate, silver.ColEventHour}, q, n)
	if err != nil {
		b.Fatal(err)
	}
	schema, err := sess.QuerySchema(ctx, q, n)
	if err != nil {
		b.Fatal(err)
	}
	s, _ := schema.JSON()
	tx := t.Begin(nil)
	tx.SetMetadata(lake.Metadata{Name: "events", SchemaString: s, PartitionColumns: []string{silver.ColEventDate, silver.ColEventHour}})
	tx.Add(adds...)
	if _, err := tx.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	return paths(root, t, adds)
}

// benchBronze commits m Bronze records in ingest hour 2026-11-22T00, left open,
// with events of that hour (one in ten a duplicate of a Silver event), and returns
// the files' paths.
func benchBronze(b *testing.B, sess *engine.Session, store lake.Store, root string, m int64) []string {
	ctx := b.Context()
	t := lake.NewTable(store, layout.TableRoot("events"))
	q := `SELECT CAST(json_object('event_id', CASE WHEN i % 10 = 0 THEN 'e' || i ELSE 'b' || i END, 'user_id', 'u' || (i % 10000),
    'event_type', ['page_view', 'click', 'add_to_cart', 'purchase', 'refund'][1 + i % 5],
    'amount', (i % 10000) / 100,
    'timestamp', strftime(TIMESTAMP '2026-11-22 00:00:00' + to_microseconds(CAST(i * 3600000000 // $1 AS BIGINT)), '%Y-%m-%dT%H:%M:%S.%fZ')) AS BLOB) AS payload,
  NULL::BLOB AS key, []::STRUCT(key VARCHAR, value BLOB)[] AS headers, 'kafka' AS source, 'events' AS topic, 0 AS "partition", i AS "offset",
  NULL::TIMESTAMPTZ AS source_timestamp, TIMESTAMPTZ '2026-11-22 00:30:00+00' AS ingested_at,
  DATE '2026-11-22' AS ingest_date, 0 AS ingest_hour
FROM range($1) AS r(i)`
	adds, err := sess.WriteFiles(ctx, t, []string{layout.ColIngestDate, layout.ColIngestHour}, q, m)
	if err != nil {
		b.Fatal(err)
	}
	tx := t.Begin(nil)
	tx.SetMetadata(bronze.NewMetadata("", "events", time.Now()))
	tx.Add(adds...)
	tx.SetTxn(layout.KafkaWatermarkAppID("events", 0), time.Date(2026, 11, 22, 0, 30, 0, 0, time.UTC).UnixMilli())
	if _, err := tx.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	return paths(root, t, adds)
}

func paths(root string, t *lake.Table, adds []lake.Add) []string {
	var out []string
	for _, a := range adds {
		out = append(out, filepath.Join(root, t.Key(a.DecodedPath())))
	}
	return out
}

// rawKPIs is realtime_kpis by hand over the files: Silver's, and the tail's
// payloads parsed, deduplicated and deduplicated against Silver; its result is
// written as zstd Parquet to out. It returns the figures and the time taken.
func rawKPIs(b *testing.B, cfg engine.Config, silverFiles, bronzeFiles []string, out string) (string, time.Duration) {
	ctx := b.Context()
	os.RemoveAll(out)
	sess, err := engine.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Close()
	start := time.Now()
	q := `CREATE TEMP TABLE kpis AS
WITH stored AS (SELECT event_id, user_id, event_type, amount, "timestamp" FROM read_parquet(` + sqlfrag.StrList(silverFiles).String() + `)),
parsed AS (
  SELECT decode(payload)::JSON AS j FROM read_parquet(` + sqlfrag.StrList(bronzeFiles).String() + `)),
tail AS (
  SELECT j->>'event_id' AS event_id, j->>'user_id' AS user_id, j->>'event_type' AS event_type,
    CAST(j->>'amount' AS DECIMAL(18, 2)) AS amount, CAST(j->>'timestamp' AS TIMESTAMPTZ) AS "timestamp"
  FROM parsed
  QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY "timestamp") = 1),
events AS (
  SELECT * FROM stored
  UNION ALL SELECT * FROM tail WHERE NOT EXISTS (SELECT 1 FROM stored s WHERE s.event_id = tail.event_id)),
recent AS (SELECT * FROM events WHERE "timestamp" > (SELECT max("timestamp") FROM events) - INTERVAL 1 HOUR)
SELECT count(*) AS events, count(DISTINCT user_id) AS active_users,
  CAST(coalesce(sum(amount) FILTER (WHERE event_type = 'purchase'), 0) AS DECIMAL(18, 2)) AS revenue,
  max("timestamp") AS newest_event_at
FROM recent`
	if _, err := sess.ExecContext(ctx, q); err != nil {
		b.Fatal(err)
	}
	if _, err := sess.ExecContext(ctx, "COPY kpis TO "+sqlfrag.Str(out).String()+" (FORMAT parquet, COMPRESSION zstd)"); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	var events, users int64
	var revenue string
	if err := sess.QueryRowContext(ctx, "SELECT events, active_users, CAST(revenue AS VARCHAR) FROM kpis").Scan(&events, &users, &revenue); err != nil {
		b.Fatal(err)
	}
	return fmt.Sprint(events, users, revenue), elapsed
}

// viewKPIs reads the figures of views/realtime_kpis.
func viewKPIs(b *testing.B, sess *engine.Session, store lake.Store) string {
	ctx := b.Context()
	t := lake.NewTable(store, Root("realtime_kpis"))
	snap, err := t.Latest(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if err := sess.RegisterTable(ctx, "views", "realtime_kpis", snap, engine.TableFiles(t, cache.New(store, "", 0))); err != nil {
		b.Fatal(err)
	}
	var events, users int64
	var revenue string
	if err := sess.QueryRowContext(ctx, "SELECT events, active_users, CAST(revenue AS VARCHAR) FROM views.realtime_kpis").Scan(&events, &users, &revenue); err != nil {
		b.Fatal(err)
	}
	return fmt.Sprint(events, users, revenue)
}
