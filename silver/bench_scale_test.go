package silver

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/lake/cache"
	"github.com/lakectl/lakectl/pipeline/jobenv"
)

// scaleOverhead is what the process may hold beyond DuckDB's memory_limit during a
// Silver hour: the Go heap and runtime, DuckDB's allocations outside its buffer
// manager (query plans, per-thread parse state, Parquet writer buffers) and the
// mapped native library. The README documents the same figure.
const scaleOverhead = 1 << 30

// BenchmarkSilverHourScale runs `run silver` on one ingest hour at 1 billion events a
// day (41.7 M events, LAKECTL_BENCH_EVENTS to change; 5% duplicates) with the memory
// limit of the example pipeline (duckdb.memory_limit), and fails when the process's
// peak RSS exceeds that limit plus scaleOverhead: past its limit DuckDB must spill to
// its temp directory, not grow. Opt-in (LAKECTL_BENCH_SCALE=1, `make bench-scale`):
// it writes about 6 GB and takes minutes.
//
// Reported: job_s, events_per_s, peak_rss_MiB, limit_MiB, over_limit_MiB, spill_peak_MiB.
func BenchmarkSilverHourScale(b *testing.B) {
	if os.Getenv("LAKECTL_BENCH_SCALE") == "" {
		b.Skip("opt-in: make bench-scale (LAKECTL_BENCH_SCALE=1) runs a 41.7 M-event hour")
	}
	n := int64(41_700_000)
	if v := os.Getenv("LAKECTL_BENCH_EVENTS"); v != "" {
		var err error
		if n, err = strconv.ParseInt(v, 10, 64); err != nil {
			b.Fatalf("LAKECTL_BENCH_EVENTS: %v", err)
		}
	}
	ctx := b.Context()
	dir := b.TempDir()
	spill := filepath.Join(dir, "spill")
	if err := os.MkdirAll(spill, 0o755); err != nil {
		b.Fatal(err)
	}
	gen, err := engine.Open(ctx, engine.Config{TempDir: spill})
	if err != nil {
		b.Fatal(err)
	}
	store, p := openExampleLake(b, filepath.Join(dir, "lake"), gen)
	h := hourAt("2026-11-21T08")
	benchBronze(b, gen, store, h, n, 0)
	if err := gen.Close(); err != nil {
		b.Fatal(err)
	}
	limit, err := parseMemory(p.DuckDB.MemoryLimit)
	if err != nil || limit <= 0 {
		b.Fatalf("example pipeline duckdb.memory_limit %q: %v", p.DuckDB.MemoryLimit, err)
	}

	job := NewJob(Config{
		Env: jobenv.Env{Store: store, Pipeline: p, Cache: cache.New(store, filepath.Join(dir, "cache"), 0), Engine: engine.Config{MemoryLimit: p.DuckDB.MemoryLimit, Threads: p.DuckDB.Threads, TempDir: spill}},
	})
	for b.Loop() {
		stopSpill := watchDirSize(spill)
		resetPeakRSS()
		start := time.Now()
		sum, err := job.RunHour(ctx, "events", h, RunOptions{})
		if err != nil {
			b.Fatal(err)
		}
		elapsed, rss, spilled := time.Since(start), peakRSS(), stopSpill()
		if sum.Written != n-n/20 {
			b.Fatalf("job wrote %d rows, want %d: %+v", sum.Written, n-n/20, sum)
		}
		b.ReportMetric(elapsed.Seconds(), "job_s")
		b.ReportMetric(float64(n)/elapsed.Seconds(), "events_per_s")
		b.ReportMetric(float64(rss>>20), "peak_rss_MiB")
		b.ReportMetric(float64(limit>>20), "limit_MiB")
		b.ReportMetric(float64((rss-limit)>>20), "over_limit_MiB")
		b.ReportMetric(float64(spilled>>20), "spill_peak_MiB")
		b.Logf("%d events at memory_limit %s: %.1fs, peak RSS %d MiB (limit + %d MiB), temp directory peak %d MiB",
			n, p.DuckDB.MemoryLimit, elapsed.Seconds(), rss>>20, (rss-limit)>>20, spilled>>20)
		if rss > limit+scaleOverhead {
			b.Errorf("peak RSS %d MiB is over memory_limit %d MiB plus the documented %d MiB overhead",
				rss>>20, limit>>20, scaleOverhead>>20)
		}
	}
}

// watchDirSize samples the total size of the files under dir until the returned
// function is called, which returns the largest total seen: how much DuckDB spilled.
func watchDirSize(dir string) (stop func() int64) {
	done := make(chan struct{})
	result := make(chan int64)
	go func() {
		var peak int64
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			var total int64
			_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					if info, err := d.Info(); err == nil {
						total += info.Size()
					}
				}
				return nil
			})
			peak = max(peak, total)
			select {
			case <-done:
				result <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 {
		close(done)
		return <-result
	}
}

// parseMemory reads a DuckDB memory setting with a binary unit ("4GiB", "512MiB").
func parseMemory(s string) (int64, error) {
	units := []struct {
		suffix string
		shift  uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(strings.TrimSpace(s), u.suffix); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			if err != nil {
				return 0, fmt.Errorf("memory %q: %w", s, err)
			}
			return int64(v * float64(int64(1)<<u.shift)), nil
		}
	}
	return 0, fmt.Errorf("memory %q: want a number with KiB, MiB, GiB or TiB", s)
}
