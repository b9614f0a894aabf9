package silver

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/lake/cache"
	"github.com/lakectl/lakectl/pipeline"
	"github.com/lakectl/lakectl/pipeline/jobenv"
)

// BenchmarkSilverHourAsOf measures `run silver` on one ingest hour of N events
// (default 2 million, LAKECTL_BENCH_ASOF_EVENTS to change) enriched from a type-2
// reference of 1 million rows (100,000 users with 10 versions each, starting a day
// apart and at a different hour per user, so that the hour's events fall on different
// versions), once joining at the event's time (as_of: event_time, an ASOF join) and
// once joining the current rows (as_of: current), each from an empty Silver table.
//
// Reported: current_s, asof_s, ratio (target ≤ 1.2).
func BenchmarkSilverHourAsOf(b *testing.B) {
	n := int64(2_000_000)
	if v := os.Getenv("LAKECTL_BENCH_ASOF_EVENTS"); v != "" {
		var err error
		if n, err = strconv.ParseInt(v, 10, 64); err != nil {
			b.Fatalf("LAKECTL_BENCH_ASOF_EVENTS: %v", err)
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
	lakeDir := filepath.Join(dir, "lake")
	store, p := openExampleLake(b, lakeDir, gen)
	h := hourAt("2026-11-21T08")
	benchBronze(b, gen, store, h, n, 0)
	// Version v of user k starts on day v after 2026-11-12, at hour k % 48; version 0
	// is valid since ever and the last is open.
	history := filepath.Join(dir, "users.parquet")
	if _, err := gen.ExecContext(ctx, sqlfrag.Fmt(`COPY (
SELECT 'u' || k AS user_id, (['US','CA','FR','NL','JP'])[1 + k %% 5] AS country, (['free','pro','team'])[1 + (k + v) %% 3] AS plan,
  CASE WHEN v > 0 THEN TIMESTAMPTZ '2026-11-12 00:00:00+00' + to_hours(v * 24 + k %% 48) END AS valid_from,
  CASE WHEN v < 9 THEN TIMESTAMPTZ '2026-11-12 00:00:00+00' + to_hours((v + 1) * 24 + k %% 48) END AS valid_to
FROM range(100000) a(k), range(10) c(v)) TO %s (FORMAT parquet)`, sqlfrag.Str(history)).String()); err != nil {
		b.Fatal(err)
	}
	spec := RefSpec{Name: "users", File: history, Key: "user_id", ValidFromColumn: "valid_from", ValidToColumn: "valid_to"}
	if _, err := LoadRef(ctx, store, gen, spec, time.Now()); err != nil {
		b.Fatal(err)
	}
	if err := gen.Close(); err != nil {
		b.Fatal(err)
	}
	p.Ref("users").ValidFrom, p.Ref("users").ValidTo = "valid_from", "valid_to"
	job := NewJob(Config{Env: jobenv.Env{Store: store, Pipeline: p, Cache: cache.New(store, filepath.Join(dir, "cache"), 0), Engine: ecfg}})
	run := func(asOf string) (time.Duration, Summary) {
		for _, root := range []string{Root("events"), QuarantineRoot("events")} {
			if err := os.RemoveAll(filepath.Join(lakeDir, root)); err != nil {
				b.Fatal(err)
			}
		}
		p.Table("events").Enrich[0].AsOf = asOf
		start := time.Now()
		sum, err := job.RunHour(ctx, "events", h, RunOptions{})
		if err != nil {
			b.Fatal(err)
		}
		return time.Since(start), sum
	}
	for b.Loop() {
		currentTime, current := run(pipeline.AsOfCurrent)
		asOfTime, asOf := run(pipeline.AsOfEventTime)
		if current.Written != n-n/20 || asOf.Written != current.Written {
			b.Fatalf("rows written: current %d, as of event time %d; want %d", current.Written, asOf.Written, n-n/20)
		}
		b.ReportMetric(currentTime.Seconds(), "current_s")
		b.ReportMetric(asOfTime.Seconds(), "asof_s")
		b.ReportMetric(asOfTime.Seconds()/currentTime.Seconds(), "ratio")
		b.Logf("%d events against a 1M-row type-2 reference: current %.2fs, as of event time %.2fs (ratio %.2f)",
			n, currentTime.Seconds(), asOfTime.Seconds(), asOfTime.Seconds()/currentTime.Seconds())
	}
}
