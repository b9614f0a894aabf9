package serve

import (
	"slices"
	"sync"
	"testing"

	"github.com/lakectl/lakectl/gold"
	"github.com/lakectl/lakectl/silver"
	"github.com/lakectl/lakectl/views"
)

// The stages of a pipeline's tasks, in the order their inputs need.
var stages = []string{"silver/", "gold", "views/"}

// runStages runs, stage by stage, every task of every scheduler at once: replicas
// race each other on the same work.
func runStages(t testing.TB, scheds ...*Scheduler) {
	t.Helper()
	for _, stage := range stages {
		var wg sync.WaitGroup
		for _, s := range scheds {
			for _, st := range s.Status() {
				if len(st.Name) >= len(stage) && st.Name[:len(stage)] == stage {
					wg.Go(func() {
						if err := s.RunOnce(t.Context(), st.Name); err != nil {
							t.Error(err)
						}
					})
				}
			}
		}
		wg.Wait()
	}
}

func newTestScheduler(t testing.TB, p Pipeline) *Scheduler {
	t.Helper()
	s, err := NewScheduler(SchedulerConfig{Tasks: PipelineTasks(p), Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func fillDay(l *testLake) {
	l.ingest([]ev{
		{"u1", "purchase", 10, "2026-11-20T08:05:00Z"},
		{"u2", "click", 0, "2026-11-20T08:30:00Z"},
		{"u1", "page_view", 0, "2026-11-20T08:40:00Z"},
	}, "2026-11-20T08:50:00Z", "2026-11-20T09:10:00Z")
	l.ingest([]ev{
		{"u3", "purchase", 7.5, "2026-11-20T09:15:00Z"},
		{"u2", "purchase", 2.25, "2026-11-20T09:20:00Z"},
	}, "2026-11-20T09:30:00Z", "2026-11-21T06:00:00Z")
}

// Two replicas running the pipeline's tasks at once over one lake give the same
// tables as one replica does: each one's duplicate work commits nothing, and none of
// it is a failure.
func TestReplicasGiveTheSameTables(t *testing.T) {
	one, two := newTestLake(t), newTestLake(t)
	fillDay(one)
	fillDay(two)

	single := newTestScheduler(t, one.replica())
	runStages(t, single)
	a, b := newTestScheduler(t, two.replica()), newTestScheduler(t, two.replica())
	runStages(t, a, b)

	roots := []string{silver.Root("events"), gold.Root("daily_metrics"), gold.Root("user_daily")}
	for _, v := range []string{"hourly_trends", "daily_summary", "realtime_kpis"} {
		roots = append(roots, views.Root(v))
	}
	for _, root := range roots {
		want, got := one.dump(root), two.dump(root)
		if len(want) == 0 {
			t.Errorf("%s: one replica wrote no rows", root)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s with two replicas:\n%v\nwant, as with one:\n%v", root, got, want)
		}
	}
	for _, s := range []*Scheduler{single, a, b} {
		for _, st := range s.Status() {
			if st.Runs != 1 || st.Failures != 0 {
				t.Errorf("task %s: runs %d, failures %d (%s); want 1 run, no failure", st.Name, st.Runs, st.Failures, st.LastError)
			}
		}
	}
}
