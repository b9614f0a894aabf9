package gold

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/lakectl/lakectl/lake"
)

// day20 fills 2026-11-20: two ingest batches, the second just after midnight, and
// seals Bronze through 2026-11-21T01:10 (the day's end plus the default lateness,
// plus the grace).
func day20(l *testLake) {
	l.ingest([]ev{
		{"u1", "purchase", 10.05, "2026-11-20T08:10:00Z"},
		{"u1", "click", 0, "2026-11-20T08:20:00Z"},
		{"u2", "purchase", 20.05, "2026-11-20T09:00:00Z"},
	}, "2026-11-20T09:30:00Z", "2026-11-20T10:10:00Z")
	l.ingest([]ev{{"u2", "page_view", 0, "2026-11-20T23:59:59Z"}}, "2026-11-21T00:05:00Z", "2026-11-21T01:10:00Z")
}

// handDaily is daily_metrics written by hand over Silver.
const handDaily = `SELECT event_date, event_type, count(DISTINCT user_id) AS unique_users, count(*) AS events,
  CAST(coalesce(sum(amount), 0) AS DECIMAL(18, 2)) AS total_amount,
  CAST(sum(amount) / count(amount) AS DECIMAL(18, 2)) AS avg_amount,
  min("timestamp") AS first_event_at, max("timestamp") AS last_event_at
FROM silver.events GROUP BY ALL`

func TestRunDayEqualsHandWrittenAggregate(t *testing.T) {
	l := newTestLake(t, nil)
	day20(l)
	j := l.job()
	for _, m := range []string{"daily_metrics", "user_daily"} {
		sum, err := j.RunDay(t.Context(), m, day("2026-11-20"), RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Skipped || sum.Partial || sum.Version != 0 || sum.FilesRead == 0 {
			t.Errorf("%s: %+v; want a complete build committed as v0 from Silver's files", m, sum)
		}
	}
	got := l.rows(`SELECT event_type, unique_users, events, total_amount, avg_amount FROM gold.daily_metrics ORDER BY ALL`)
	want := []string{"click 1 1 0 0", "page_view 1 1 0 0", "purchase 2 2 30.1 15.05"}
	if !slices.Equal(got, want) {
		t.Errorf("daily_metrics = %q, want %q", got, want)
	}
	for _, q := range []string{
		"SELECT count(*) FROM ((SELECT * FROM gold.daily_metrics EXCEPT ALL " + handDaily + ") UNION ALL (" + handDaily + " EXCEPT ALL SELECT * FROM gold.daily_metrics))",
		`SELECT count(*) FROM (SELECT event_date, user_id, plan, count(*), CAST(coalesce(sum(amount) FILTER (WHERE event_type = 'purchase'), 0) AS DECIMAL(18,2)),
  list_sort(list_distinct(list(event_type))) FROM silver.events GROUP BY ALL EXCEPT ALL SELECT * FROM gold.user_daily)`,
	} {
		if got := l.rows(q); !slices.Equal(got, []string{"0"}) {
			t.Errorf("rows that differ from the hand-written aggregate: %v\n%s", got, q)
		}
	}
	if got, want := l.rows("SELECT user_id, plan, spend, event_types FROM gold.user_daily ORDER BY ALL"),
		[]string{"u1 free 10.05 [click purchase]", "u2 free 20.05 [page_view purchase]"}; !slices.Equal(got, want) {
		t.Errorf("user_daily = %q, want %q", got, want)
	}

	// The same inputs again: nothing to do.
	sum, err := j.RunDay(t.Context(), "daily_metrics", day("2026-11-20"), RunOptions{})
	if err != nil || !sum.Skipped {
		t.Errorf("second run: %+v, %v; want skipped", sum, err)
	}
	h := l.history("daily_metrics")
	if len(h) != 1 {
		t.Fatalf("%d commits, want 1", len(h))
	}
	info := h[0].Info
	ins, _ := info["inputs"].(map[string]any)
	read, _ := info["read"].(map[string]any)
	if info["day"] != "2026-11-20" || ins["silver/events"] == nil || len(read["silver/events"].([]any)) != 1 || info["partial"] != false {
		t.Errorf("commitInfo %v; want the day, the Silver version read and the day read", info)
	}
}

func TestIncompleteDayRefusedUnlessForced(t *testing.T) {
	l := newTestLake(t, nil)
	l.ingest([]ev{{"u1", "purchase", 1, "2026-11-20T08:10:00Z"}}, "2026-11-20T09:30:00Z", "2026-11-20T10:10:00Z")
	j := l.job()
	_, err := j.RunDay(t.Context(), "daily_metrics", day("2026-11-20"), RunOptions{})
	var inc *IncompleteError
	if !errors.As(err, &inc) || !strings.Contains(inc.Why, "needs ingest hours through 2026-11-21T01:00:00Z") {
		t.Fatalf("err = %v, want an IncompleteError naming the ingest time the day needs", err)
	}
	if h, _ := lakeHistory(l, "daily_metrics"); h != 0 {
		t.Fatalf("%d gold commits after a refused run, want none", h)
	}
	sum, err := j.RunDay(t.Context(), "daily_metrics", day("2026-11-20"), RunOptions{Force: true})
	if err != nil || !sum.Partial {
		t.Fatalf("forced run: %+v, %v; want a partial build", sum, err)
	}
	// Not stale while incomplete: nothing new to see.
	if st, err := j.Stale(t.Context(), "daily_metrics"); err != nil || len(st) != 0 {
		t.Errorf("stale days while still incomplete: %+v, %v; want none", st, err)
	}
	// Complete now: the partial day is stale, and rebuilt once.
	l.ingest([]ev{{"u2", "click", 0, "2026-11-20T23:00:00Z"}}, "2026-11-20T23:30:00Z", "2026-11-21T02:00:00Z")
	st, err := j.Stale(t.Context(), "daily_metrics")
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 1 || st[0].Day != day("2026-11-20") || !hasKind(st[0].Reasons, ReasonPartial) || !st[0].Completeness.Complete {
		t.Fatalf("stale = %+v; want 2026-11-20, partial and now complete", st)
	}
	sum, err = j.RunDay(t.Context(), "daily_metrics", day("2026-11-20"), RunOptions{})
	if err != nil || sum.Partial || sum.Skipped {
		t.Fatalf("run once complete: %+v, %v", sum, err)
	}
	if st, err := j.Stale(t.Context(), "daily_metrics"); err != nil || len(st) != 0 {
		t.Errorf("stale after the complete build: %+v, %v; want none", st, err)
	}
}

func lakeHistory(l *testLake, model string) (int, error) {
	snap, err := latestOrNil(l.T.Context(), lake.NewTable(l.Store, Root(model)))
	if snap == nil || err != nil {
		return 0, err
	}
	return int(snap.Version) + 1, nil
}

func TestFailingAuditCommitsNothing(t *testing.T) {
	l := newTestLake(t, map[string]*string{"big_spenders": ptr(`-- partition: event_date
-- audit small_amounts: SELECT user_id, total FROM this WHERE total > 15
SELECT event_date, user_id, sum(amount) AS total FROM silver.events GROUP BY ALL
`)})
	day20(l)
	_, err := l.job().RunDay(t.Context(), "big_spenders", day("2026-11-20"), RunOptions{})
	var ae *AuditError
	if !errors.As(err, &ae) || len(ae.Failed) != 1 || ae.Failed[0].Name != "small_amounts" || ae.Failed[0].Rows != 1 {
		t.Fatalf("err = %v, want audit small_amounts failing with one row", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "u2 | 20.05") || !strings.Contains(msg, "big_spenders.sql:2") {
		t.Errorf("error %q does not show the sample row and the audit's place", msg)
	}
	if n, _ := lakeHistory(l, "big_spenders"); n != 0 {
		t.Errorf("%d commits after a failing audit, want none", n)
	}
}

func TestConcurrentRunsOfOneDayLeaveOneCommit(t *testing.T) {
	l := newTestLake(t, nil)
	day20(l)
	var wg sync.WaitGroup
	sums := make([]Summary, 3)
	errs := make([]error, 3)
	for i := range sums {
		wg.Go(func() {
			sums[i], errs[i] = l.job().RunDay(t.Context(), "daily_metrics", day("2026-11-20"), RunOptions{})
		})
	}
	wg.Wait()
	committed := 0
	for i := range sums {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !sums[i].Skipped {
			committed++
		}
	}
	if n := len(l.history("daily_metrics")); n != 1 || committed != 1 {
		t.Errorf("%d commits, %d runs that say they committed; want 1 and 1", n, committed)
	}
}

// TestCrashAtEveryPointEndsAsOneCleanRun rebuilds a day after new Silver data,
// crashing at each point of the run, then runs again: the table holds the day once,
// equal to the hand-written aggregate, after exactly one more commit.
func TestCrashAtEveryPointEndsAsOneCleanRun(t *testing.T) {
	for _, point := range []string{HookAudited, HookFilesWritten, HookCommitted} {
		t.Run(point, func(t *testing.T) {
			l := newTestLake(t, nil)
			day20(l)
			if _, err := l.job().RunDay(t.Context(), "daily_metrics", day("2026-11-20"), RunOptions{}); err != nil {
				t.Fatal(err)
			}
			l.ingest([]ev{{"u3", "click", 0, "2026-11-20T12:00:00Z"}}, "2026-11-21T01:00:00Z", "2026-11-21T02:10:00Z")
			j := l.job()
			j.cfg.Hook = func(p string) {
				if p == point {
					panic("crash at " + p)
				}
			}
			func() {
				defer func() {
					if recover() == nil {
						t.Fatalf("run did not reach %s", point)
					}
				}()
				j.RunDay(t.Context(), "daily_metrics", day("2026-11-20"), RunOptions{})
			}()
			if _, err := l.job().RunDay(t.Context(), "daily_metrics", day("2026-11-20"), RunOptions{}); err != nil {
				t.Fatal(err)
			}
			if got, hand := l.rows("SELECT * FROM gold.daily_metrics ORDER BY ALL"), l.rows(handDaily+" ORDER BY ALL"); !slices.Equal(got, hand) || len(got) != 3 {
				t.Errorf("after a crash at %s and a rerun: %q, want %q", point, got, hand)
			}
			if n := len(l.history("daily_metrics")); n != 2 {
				t.Errorf("%d commits, want 2 (the first build and one rebuild)", n)
			}
		})
	}
}
