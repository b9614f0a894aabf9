package views

import (
	"slices"
	"testing"

	"github.com/lakectl/lakectl/gold"
	"github.com/lakectl/lakectl/pipeline/jobenv"
)

// TestIncrementalOverGold: a view over a Gold table is refreshed by the days that
// Gold's commits say they built.
func TestIncrementalOverGold(t *testing.T) {
	text := "-- description: Events per day, from Gold.\n-- time: event_date\nSELECT event_date, CAST(sum(events) AS BIGINT) AS events FROM gold.daily_metrics GROUP BY ALL\n"
	l := newTestLake(t, map[string]*string{"from_gold": &text})
	day20(l)
	models, err := gold.Load(t.Context(), l.Pipeline, testEngine)
	if err != nil {
		t.Fatal(err)
	}
	gj := gold.NewJob(gold.Config{Env: jobenv.Env{Store: l.Store, Pipeline: l.Pipeline, Cache: l.Cache, Engine: testEngine}, Models: models})
	build := func(day string) {
		d, err := gold.ParseDay(day)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gj.RunDay(t.Context(), "daily_metrics", d, gold.RunOptions{Force: true}); err != nil {
			t.Fatal(err)
		}
	}
	build("2026-11-20")
	j := l.job(nil)
	if sum, err := j.Refresh(t.Context(), "from_gold", Options{}); err != nil || sum.Mode != ModeFull {
		t.Fatalf("first refresh: %+v, %v; want full", sum, err)
	}
	build("2026-11-21")
	sum, err := j.Refresh(t.Context(), "from_gold", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Mode != ModeIncremental || !slices.Equal(sum.Days, []string{"2026-11-21"}) {
		t.Errorf("after Gold built 2026-11-21: %+v; want an incremental refresh of that day alone", sum)
	}
	if got, want := l.rows("SELECT event_date, events FROM views.from_gold ORDER BY 1"),
		[]string{"2026-11-20 00:00:00 +0000 UTC 4", "2026-11-21 00:00:00 +0000 UTC 2"}; !slices.Equal(got, want) {
		t.Errorf("from_gold = %q, want %q", got, want)
	}
}
