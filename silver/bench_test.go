package silver

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
	"github.com/lakectl/lakectl/pipeline/jobenv"
)

// BenchmarkSilverHour measures `run silver` on one ingest hour of N events (default
// 10 million, LAKECTL_BENCH_EVENTS to change; 5% duplicates) against a hand-written
// DuckDB query that does the same parse, check, enrich and dedupe over the same Bronze
// files and writes zstd Parquet partitioned the same way, in the same process. It
// then fills Silver with 8 times more rows in other partitions and runs the next hour
// of N events, to show that the job's cost follows its input, not the table.
//
// Reported: job_s, raw_s, ratio (target ≤ 1.3), job_peak_rss_MiB, raw_peak_rss_MiB,
// job_8x_s and ratio_8x (target ≈ 1).
func BenchmarkSilverHour(b *testing.B) {
	n := int64(10_000_000)
	if v := os.Getenv("LAKECTL_BENCH_EVENTS"); v != "" {
		var err error
		if n, err = strconv.ParseInt(v, 10, 64); err != nil {
			b.Fatalf("LAKECTL_BENCH_EVENTS: %v", err)
		}
	}
	ctx := b.Context()
	dir := b.TempDir()
	ecfg := engine.Config{MemoryLimit: "8GiB", Threads: 2, TempDir: filepath.Join(dir, "spill")}
	if err := os.MkdirAll(ecfg.TempDir, 0o755); err != nil {
		b.Fatal(err)
	}
	gen, err := engine.Open(ctx, ecfg)
	if err != nil {
		b.Fatal(err)
	}
	store, p := openExampleLake(b, filepath.Join(dir, "lake"), gen)
	h1, h2 := hourAt("2026-11-21T08"), hourAt("2026-11-21T09")
	benchBronze(b, gen, store, h1, n, 0)
	benchBronze(b, gen, store, h2, n, n)
	// Closed before measuring: the memory that writing Bronze left resident would
	// otherwise count in the job's peak RSS and not in the hand-written query's.
	if err := gen.Close(); err != nil {
		b.Fatal(err)
	}

	job := NewJob(Config{Env: jobenv.Env{Store: store, Pipeline: p, Cache: cache.New(store, filepath.Join(dir, "cache"), 0), Engine: ecfg}})
	for b.Loop() {
		resetPeakRSS()
		start := time.Now()
		sum, err := job.RunHour(ctx, "events", h1, RunOptions{})
		if err != nil {
			b.Fatal(err)
		}
		jobTime, jobRSS := time.Since(start), peakRSS()
		if sum.Written != n-n/20 {
			b.Fatalf("job wrote %d rows, want %d: %+v", sum.Written, n-n/20, sum)
		}

		resetPeakRSS()
		rawTime, rawRows := benchRaw(b, ecfg, store, h1, filepath.Join(dir, "raw"))
		rawRSS := peakRSS()
		if rawRows != sum.Written {
			b.Fatalf("hand-written query wrote %d rows, the job %d", rawRows, sum.Written)
		}

		benchFill(b, ecfg, store, 8)
		start = time.Now()
		if _, err := job.RunHour(ctx, "events", h2, RunOptions{}); err != nil {
			b.Fatal(err)
		}
		job8 := time.Since(start)

		b.ReportMetric(jobTime.Seconds(), "job_s")
		b.ReportMetric(rawTime.Seconds(), "raw_s")
		b.ReportMetric(jobTime.Seconds()/rawTime.Seconds(), "ratio")
		b.ReportMetric(float64(jobRSS)/(1<<20), "job_peak_rss_MiB")
		b.ReportMetric(float64(rawRSS)/(1<<20), "raw_peak_rss_MiB")
		b.ReportMetric(job8.Seconds(), "job_8x_s")
		b.ReportMetric(job8.Seconds()/jobTime.Seconds(), "ratio_8x")
		b.Logf("%d events: job %.1fs, hand-written %.1fs (ratio %.2f), peak RSS job %d MiB / raw %d MiB; with 8x Silver: %.1fs (%.2f)",
			n, jobTime.Seconds(), rawTime.Seconds(), jobTime.Seconds()/rawTime.Seconds(), jobRSS>>20, rawRSS>>20,
			job8.Seconds(), job8.Seconds()/jobTime.Seconds())
	}
}

// benchBronze writes n events into ingest hour h of bronze/events as one commit, with
// every 20th a resend of the one before, and seals the hour. first offsets the ids.
func benchBronze(b *testing.B, sess *engine.Session, store lake.Store, h layout.Hour, n, first int64) {
	query := fmt.Sprintf(`SELECT ('{"event_id":"evt-' || lpad(to_hex(id), 16, '0') || '","user_id":"u' || (id %% 10000) ||
  '","event_type":"' || (['page_view','click','add_to_cart','purchase','refund'])[1 + (id %% 5)::INTEGER] ||
  '","amount":' || ((id %% 10000) / 100.0) || ',"timestamp":"' || strftime(ts, '%%Y-%%m-%%dT%%H:%%M:%%S.%%gZ') || '"}')::BLOB AS payload,
  NULL::BLOB AS key, []::STRUCT(key VARCHAR, value BLOB)[] AS headers, 'kafka' AS source, 'events' AS topic,
  CAST(i %% 4 AS INTEGER) AS "partition", i // 4 AS "offset", NULL::TIMESTAMPTZ AS source_timestamp,
  $1::TIMESTAMPTZ + to_microseconds(i * 3600000000 // $2) AS ingested_at,
  CAST($1::TIMESTAMPTZ AS DATE) AS ingest_date, CAST(hour($1::TIMESTAMPTZ) AS INTEGER) AS ingest_hour
FROM (SELECT i, id, $1::TIMESTAMPTZ + to_microseconds((id - $3) * 3600000000 // $2) AS ts
      FROM (SELECT i, $3 + CASE WHEN i %% 20 = 19 THEN i - 1 ELSE i END AS id FROM range($2) r(i)))`)
	commitBronze(b, sess, store, 4, h.End().Add(time.Hour), query, h.Time(), n, first)
}

// benchRaw runs the hand-written equivalent of the job over the Bronze files of h and
// returns its time and the rows it wrote.
func benchRaw(b *testing.B, cfg engine.Config, store lake.Store, h layout.Hour, out string) (time.Duration, int64) {
	ctx := b.Context()
	bt := lake.NewTable(store, layout.TableRoot("events"))
	snap, err := bt.Latest(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var files []string
	for _, a := range hourFiles(snap, h) {
		files = append(files, store.(lake.LocalStore).LocalPath(bt.Key(a.DecodedPath())))
	}
	users := store.(lake.LocalStore).LocalPath("ref/users")
	sess, err := engine.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Close()
	// The same strict contract as the job (see convert.go), written as a person would:
	// parse each payload once into JSON values, keep a value only when its JSON type
	// is the one allowed and it converts exactly, then filter, enrich and dedupe.
	query := fmt.Sprintf(`COPY (
WITH parsed AS (
  SELECT json_transform(p, '{"event_id":"JSON","user_id":"JSON","event_type":"JSON","amount":"JSON","timestamp":"JSON"}') AS j,
    ingested_at, topic, "partition", "offset"
  FROM (SELECT decode(payload) AS p, * FROM read_parquet(%s)) WHERE json_valid(p)
), typed AS (
  SELECT CASE WHEN json_type(j.event_id) = 'VARCHAR' THEN j.event_id ->> '$' END AS event_id,
    CASE WHEN json_type(j.user_id) = 'VARCHAR' THEN j.user_id ->> '$' END AS user_id,
    CASE WHEN json_type(j.event_type) = 'VARCHAR' THEN j.event_type ->> '$' END AS event_type,
    json_type(j.amount) AS amount_type, TRY_CAST(j.amount AS DOUBLE) AS amount_double, j.amount ->> '$' AS amount_text,
    CASE WHEN json_type(j."timestamp") = 'VARCHAR' AND regexp_matches(j."timestamp" ->> '$', '(Z|z|[+-]\d\d:\d\d)$')
      THEN TRY_CAST(j."timestamp" ->> '$' AS TIMESTAMPTZ) END AS ts,
    ingested_at, topic, "partition", "offset"
  FROM parsed
), converted AS (
  SELECT * EXCLUDE (amount_double, amount_text),
    CASE WHEN amount_type IN ('BIGINT', 'UBIGINT') THEN TRY_CAST(amount_text AS DECIMAL(18,2))
      WHEN amount_type = 'DOUBLE' AND abs(amount_double) < 1e13 AND CAST(TRY_CAST(amount_double AS DECIMAL(18,2)) AS DOUBLE) = amount_double
        THEN CAST(amount_double AS DECIMAL(18,2))
      WHEN amount_type = 'VARCHAR' AND regexp_full_match(amount_text, '[+-]?[0-9]+(\.[0-9]{0,2})?') THEN TRY_CAST(amount_text AS DECIMAL(18,2))
    END AS amount
  FROM typed
)
SELECT c.event_id, c.user_id, c.event_type, c.amount, c.ts AS "timestamp", u.country, u.plan,
  ingested_at AS _ingested_at, topic AS _topic, "partition" AS _partition, "offset" AS _offset,
  CAST(c.ts AT TIME ZONE 'UTC' AS DATE) AS event_date, hour(c.ts AT TIME ZONE 'UTC') AS event_hour
FROM converted c
LEFT JOIN read_parquet(%s) u ON u.user_id = c.user_id
WHERE c.event_id IS NOT NULL AND c.user_id IS NOT NULL AND isfinite(c.ts)
  AND c.event_type IN ('page_view','click','add_to_cart','purchase','refund')
  AND (c.amount_type IS NULL OR c.amount BETWEEN 0 AND 100000)
QUALIFY row_number() OVER (PARTITION BY c.event_id ORDER BY c.ts, ingested_at, topic, "partition", "offset") = 1
) TO %s (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (event_date, event_hour))`,
		sqlfrag.StrList(files), sqlfrag.Str(users+"/*.parquet"), sqlfrag.Str(out))
	start := time.Now()
	res, err := sess.ExecContext(ctx, query)
	if err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	rows, _ := res.RowsAffected()
	return elapsed, rows
}

// benchFill adds times copies of Silver's rows in earlier days, new keys each, so the
// table holds that much more data outside the partitions the next hour touches.
func benchFill(b *testing.B, cfg engine.Config, store lake.Store, times int) {
	ctx := b.Context()
	sess, err := engine.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Close()
	st := lake.NewTable(store, Root("events"))
	snap, err := st.Latest(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if err := sess.RegisterTable(ctx, "silver", "events", snap, engine.TableFiles(st, cache.New(store, "", 0))); err != nil {
		b.Fatal(err)
	}
	tx := st.Begin(snap)
	for k := 1; k <= times; k++ {
		adds, err := sess.WriteFiles(ctx, st, []string{ColEventDate, ColEventHour}, fmt.Sprintf(
			`SELECT * REPLACE ('copy%[1]d-' || event_id AS event_id, "timestamp" - INTERVAL %[1]d DAY AS "timestamp",
  CAST(event_date - INTERVAL %[1]d DAY AS DATE) AS event_date) FROM silver.events`, k))
		if err != nil {
			b.Fatal(err)
		}
		tx.Add(adds...)
	}
	if _, err := tx.Commit(ctx); err != nil {
		b.Fatal(err)
	}
}

// resetPeakRSS resets the kernel's high-water mark of this process's resident memory
// (Linux; a no-op elsewhere).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS returns VmHWM, the peak resident memory since the last reset, in bytes.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
