package views

import (
	"bytes"
	"errors"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lakectl/lakectl/gold"
	"github.com/lakectl/lakectl/lake/fs"
	"github.com/lakectl/lakectl/pipeline"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/views")

// plan builds the plan of p over its (empty or filled) lake.
func plan(t *testing.T, p *pipeline.Pipeline) (*Plan, error) {
	t.Helper()
	vs, err := Load(t.Context(), p, testEngine)
	if err != nil {
		t.Fatal(err)
	}
	models, err := gold.Load(t.Context(), p, testEngine)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(p.Store.URL)
	store, err := fs.New(u.Path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Measure(t.Context(), store, p, vs, models)
	if err != nil {
		t.Fatal(err)
	}
	return Build(p, vs, models, m)
}

// TestPlanGolden: the example pipeline's plan before any history (the default hop
// durations), with one unused view and one on a fixed refresh.
func TestPlanGolden(t *testing.T) {
	unused := "-- description: Nobody reads this.\nSELECT count(*) AS n FROM silver.events\n"
	fixed := "-- description: Users per plan.\n-- refresh: 15m\nSELECT plan, count(*) AS n FROM ref.users GROUP BY ALL\n"
	p := examplePipeline(t, map[string]*string{"nobody": &unused, "plans": &fixed})
	pl, err := plan(t, p)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	pl.Write(&b)
	checkGolden(t, filepath.Join("..", "testdata", "views", "plan", "example", "plan.txt"), b.String())
}

func TestPlanRefusesAnSLONoPathCanMeet(t *testing.T) {
	goldFed := "-- description: Daily metrics for a dashboard.\nSELECT * FROM gold.daily_metrics\n"
	for _, tc := range []struct {
		name, consumers string
		want            []string
	}{
		{"gold-fed view", "  wall:\n    reads: [views.gold_fed]\n    freshness: 10s\n", []string{
			"lakectl.yaml:", "consumer wall: freshness 10s on views.gold_fed cannot be met",
			"the best achievable is 25h12m20s, through Gold", "no path can: even the live tail, the fastest, guarantees at best 20s",
		}},
		{"gold-fed view, a live tail would do", "  wall:\n    reads: [views.gold_fed]\n    freshness: 1m\n", []string{
			"consumer wall: freshness 1m0s on views.gold_fed cannot be met", "a view over silver.* through the live tail would meet it",
		}},
		{"gold table", "  wall:\n    reads: [gold.daily_metrics]\n    freshness: 1h\n", []string{
			"consumer wall: freshness 1h0m0s on gold.daily_metrics cannot be met", "the best achievable is 25h12m10s, through Gold",
			"a view over silver.* through the live tail would meet it",
		}},
		{"faster than the flush", "  wall:\n    reads: [views.realtime_kpis]\n    freshness: 10s\n", []string{
			"consumer wall: freshness 10s on views.realtime_kpis cannot be met", "the best achievable is 20s, through the live tail",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := examplePipeline(t, map[string]*string{"gold_fed": &goldFed})
			p = withConsumers(t, p, tc.consumers)
			_, err := plan(t, p)
			var inf *InfeasibleError
			if !errors.As(err, &inf) {
				t.Fatalf("err = %v, want an *InfeasibleError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
		})
	}
}

// TestPlanRefusesAFixedRefreshFasterThanARefresh: a view whose -- refresh is shorter
// than a refresh of it takes is refused for that, with both numbers and the header's
// line, whether or not a consumer reads it: not as an SLO that no path can meet.
func TestPlanRefusesAFixedRefreshFasterThanARefresh(t *testing.T) {
	tooFast := "-- description: Users per plan.\n-- refresh: 2s\nSELECT plan, count(*) AS n FROM ref.users GROUP BY ALL\n"
	kpis := "-- description: The last hour's events.\n-- refresh: 3s\nSELECT count(*) AS events FROM silver.events\n"
	for _, tc := range []struct {
		name  string
		files map[string]*string
	}{
		{"no-consumer", map[string]*string{"plans": &tooFast}},
		{"read-by-a-consumer", map[string]*string{"realtime_kpis": &kpis}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := examplePipeline(t, tc.files)
			_, err := plan(t, p)
			var fixed *FixedRefreshError
			if !errors.As(err, &fixed) {
				t.Fatalf("err = %v, want a *FixedRefreshError", err)
			}
			got := strings.ReplaceAll(err.Error(), p.Dir+string(filepath.Separator), "") + "\nhint: " + fixed.Hint() + "\n"
			checkGolden(t, filepath.Join("..", "testdata", "views", "plan", tc.name, "error.txt"), got)
		})
	}
}

// checkGolden compares got with the golden file, which -update rewrites.
func checkGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test ./views -run %s -update writes it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("got:\n%s\nwant (%s):\n%s", got, golden, want)
	}
}

func TestPlanAcceptsFeasibleSLOs(t *testing.T) {
	p := withConsumers(t, examplePipeline(t, nil), "  wall:\n    reads: [views.realtime_kpis, views.hourly_trends]\n    freshness: 30s\n")
	pl, err := plan(t, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range pl.Views {
		if v.Name == "hourly_trends" && (v.Path != PathLiveTail || v.Cadence != 15*time.Second) {
			t.Errorf("hourly_trends for a 30s consumer: %s every %s, want the live tail every 15s (30s - 10s flush - 5s refresh)", v.Path, v.Cadence)
		}
	}
}

// withConsumers replaces the consumers of p's lakectl.yaml and reloads it.
func withConsumers(t *testing.T, p *pipeline.Pipeline, consumers string) *pipeline.Pipeline {
	t.Helper()
	data, err := os.ReadFile(p.File)
	if err != nil {
		t.Fatal(err)
	}
	text, _, _ := strings.Cut(string(data), "\nconsumers:\n")
	if err := os.WriteFile(p.File, []byte(text+"\nconsumers:\n"+consumers), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err = pipeline.Load(p.Dir, pipeline.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestMeasureRefreshFromHistory: after refreshes, the plan's refresh hop is measured
// from the views' commits (durationMs), not the default.
func TestMeasureRefreshFromHistory(t *testing.T) {
	l := newTestLake(t, nil)
	day20(l)
	j := l.job(nil)
	if _, err := j.Refresh(t.Context(), "realtime_kpis", Options{}); err != nil {
		t.Fatal(err)
	}
	l.ingest([]ev{{"u9", "click", 0, "2026-11-21T01:05:00Z"}}, "2026-11-21T01:25:00Z", "2026-11-21T02:10:00Z")
	if _, err := j.Refresh(t.Context(), "realtime_kpis", Options{}); err != nil {
		t.Fatal(err)
	}
	m, err := Measure(t.Context(), l.Store, l.Pipeline, l.views, nil)
	if err != nil {
		t.Fatal(err)
	}
	var want []time.Duration
	for _, c := range l.history("realtime_kpis") {
		want = append(want, time.Duration(c.Info["durationMs"].(float64))*time.Millisecond)
	}
	got := m.Refresh["realtime_kpis"]
	if !got.Measured || got.Samples != 2 || got.P95 != max(want[0], want[1]) {
		t.Errorf("refresh hop %+v; want measured from 2 commits, p95 %v (the larger of %v)", got, max(want[0], want[1]), want)
	}
	if h := m.Refresh["hourly_trends"]; h.Measured || h.P95 != DefaultRefresh {
		t.Errorf("hop of a view never refreshed: %+v; want the default %v", h, DefaultRefresh)
	}
}
