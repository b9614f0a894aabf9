package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/lakectl/lakectl/internal/e2e"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/fs"
	"github.com/lakectl/lakectl/views"
)

// BenchmarkFreshness measures realtime_kpis's end-to-end freshness: ingest over HTTP
// at a steady R events/s (default 10,000, LAKECTL_BENCH_FRESHNESS_RATE) for D
// (default 2m, LAKECTL_BENCH_FRESHNESS_FOR) with a flush interval of 1s (HTTP ingest
// acknowledges a batch once committed, so gen sends batches of 1000 from 16
// clients to reach the rate), the view refreshed by `lakectl views
// refresh` at the cadence `lakectl plan` derives (LAKECTL_BENCH_FRESHNESS_CADENCE
// overrides it), and its freshness (now minus the event time through which its
// latest version reflects the events, commitInfo.reflectsThrough) sampled every
// second. gen stamps the events 1/R apart from its start, so event time keeps pace
// with ingest while gen keeps the rate (should it fall behind, the sealing mark
// bounds the freshness).
//
// Reported: p50_s, p95_s, and target_s = flush interval + cadence + 2 s.
func BenchmarkFreshness(b *testing.B) {
	rate := envInt(b, "LAKECTL_BENCH_FRESHNESS_RATE", 10_000)
	length := envDuration(b, "LAKECTL_BENCH_FRESHNESS_FOR", 2*time.Minute)
	dir := filepath.Join(b.TempDir(), "pipeline")
	env := []string{"LAKECTL_PIPELINE=" + dir, "XDG_CACHE_HOME=" + b.TempDir()}
	lakectl.Run(b, env, "init", dir)
	lakectl.Run(b, env, "ref", "load", "users")
	// Silver holds an hour from before, as it would in production.
	old, addr := startHTTPIngest(b, env, "-3h")
	send(b, env, addr, 1, 10_000, "0")
	old.Term(b)
	seal, _ := startHTTPIngest(b, env, "0s")
	seal.Term(b)
	lakectl.Run(b, env, "run", "silver", "--pending")

	cadence := envDuration(b, "LAKECTL_BENCH_FRESHNESS_CADENCE", 0)
	if cadence == 0 {
		m := regexp.MustCompile(`realtime_kpis: the live tail, refresh every (\S+),`).FindStringSubmatch(lakectl.Run(b, env, "plan"))
		if m == nil {
			b.Fatal("plan does not put realtime_kpis on the live tail")
		}
		cadence, _ = time.ParseDuration(m[1])
	}
	const flush = time.Second
	store, err := fs.New(filepath.Join(dir, "lake"))
	if err != nil {
		b.Fatal(err)
	}
	view := lake.NewTable(store, views.Root("realtime_kpis"))
	for b.Loop() {
		ing, addr := startIngestFlush(b, env, "0s", flush)
		g := lakectl.Start(b, "gen", env, "gen", "--url", "http://"+addr+"/v1/streams/events/events",
			"--count", fmt.Sprint(int64(rate)*int64(length/time.Second)), "--rate", fmt.Sprint(rate), "--seed", "2",
			"--batch", "1000", "--concurrency", "16")
		var samples []time.Duration
		next := time.Now()
		tick := time.NewTicker(time.Second)
	loop:
		for {
			select {
			case <-g.Done():
				break loop
			case now := <-tick.C:
				if !now.Before(next) {
					lakectl.Run(b, env, "views", "refresh", "realtime_kpis")
					next = next.Add(cadence)
				}
				if f, ok := freshness(b, view, time.Now()); ok {
					samples = append(samples, f)
				}
			}
		}
		tick.Stop()
		e2e.GenSummary(b, g)
		ing.Term(b)
		if len(samples) == 0 {
			b.Fatal("no freshness samples")
		}
		slices.Sort(samples)
		b.ReportMetric(samples[len(samples)/2].Seconds(), "p50_s")
		b.ReportMetric(samples[(len(samples)*95+99)/100-1].Seconds(), "p95_s")
		b.ReportMetric((flush + cadence + 2*time.Second).Seconds(), "target_s")
	}
}

// freshness is now minus the event time through which the latest version of the
// view reflects the events.
func freshness(b *testing.B, t *lake.Table, now time.Time) (time.Duration, bool) {
	snap, err := t.Latest(b.Context())
	if err != nil {
		return 0, false
	}
	hist, err := t.HistoryFrom(b.Context(), snap.Version)
	if err != nil || len(hist) == 0 {
		return 0, false
	}
	s, _ := hist[len(hist)-1].Info["reflectsThrough"].(string)
	through, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, false
	}
	return now.Sub(through), true
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	return n
}

func envDuration(b *testing.B, name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	return d
}
