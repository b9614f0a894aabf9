package gold

import (
	"slices"
	"strings"
	"testing"
)

// rolling reads three days of Silver for each day.
var rolling = ptr(`-- partition: event_date
-- window: silver.events 3d
SELECT event_date, CAST(sum(count(*)) OVER (ORDER BY event_date RANGE BETWEEN INTERVAL 2 DAY PRECEDING AND CURRENT ROW) AS BIGINT) AS events_3d
FROM silver.events GROUP BY event_date
`)

func staleDays(t *testing.T, j *Job, model string) map[Day][]Reason {
	t.Helper()
	st, err := j.Stale(t.Context(), model)
	if err != nil {
		t.Fatal(err)
	}
	out := map[Day][]Reason{}
	for _, d := range st {
		out[d.Day] = d.Reasons
	}
	return out
}

func TestLateDataMakesExactlyTheDaysThatReadItStale(t *testing.T) {
	l := newTestLake(t, map[string]*string{"rolling": rolling})
	l.ingest([]ev{{"u1", "click", 0, "2026-11-20T08:00:00Z"}}, "2026-11-20T08:30:00Z", "2026-11-20T09:10:00Z")
	l.ingest([]ev{{"u1", "click", 0, "2026-11-21T08:00:00Z"}}, "2026-11-21T08:30:00Z", "2026-11-21T09:10:00Z")
	l.ingest([]ev{{"u1", "click", 0, "2026-11-22T08:00:00Z"}}, "2026-11-22T08:30:00Z", "2026-11-23T02:10:00Z")
	j := l.job()

	// Nothing built: every day with Silver data is a gap.
	gaps := staleDays(t, j, "daily_metrics")
	if len(gaps) != 3 || !hasKind(gaps[day("2026-11-21")], ReasonGap) {
		t.Fatalf("stale before any build: %v; want three gaps", gaps)
	}
	var ran []string
	each := func(model string, d StaleDay, sum *Summary) {
		if sum == nil {
			t.Fatalf("%s %s not run: %s", model, d.Day, d.Completeness.Why)
		}
		ran = append(ran, model+" "+d.Day.String())
	}
	if err := j.RunStale(t.Context(), nil, false, each); err != nil {
		t.Fatal(err)
	}
	if len(ran) != 9 {
		t.Fatalf("ran %v, want the three days of three models", ran)
	}

	// An event of the 20th, ingested on the 23rd.
	l.ingest([]ev{{"u9", "purchase", 5, "2026-11-20T10:00:00Z"}}, "2026-11-23T05:00:00Z", "2026-11-24T02:10:00Z")
	for model, want := range map[string][]Day{
		"daily_metrics": {day("2026-11-20")},
		"user_daily":    {day("2026-11-20")},
		"rolling":       {day("2026-11-20"), day("2026-11-21"), day("2026-11-22")},
	} {
		got := staleDays(t, j, model)
		var days []Day
		for d, rs := range got {
			days = append(days, d)
			if len(rs) != 1 || rs[0].Kind != ReasonInput || rs[0].Input != "silver/events" || !slices.Equal(rs[0].Days, []Day{day("2026-11-20")}) || len(rs[0].Versions) != 1 {
				t.Errorf("%s %s: reasons %v; want one Silver commit that touched 2026-11-20", model, d, rs)
			}
		}
		slices.SortFunc(days, func(a, b Day) int { return a.t.Compare(b.t) })
		if !slices.Equal(days, want) {
			t.Errorf("%s: stale days %v, want %v", model, days, want)
		}
	}
	ran = nil
	if err := j.RunStale(t.Context(), nil, false, each); err != nil {
		t.Fatal(err)
	}
	if want := []string{"daily_metrics 2026-11-20", "rolling 2026-11-20", "rolling 2026-11-21", "rolling 2026-11-22", "user_daily 2026-11-20"}; !slices.Equal(ran, want) {
		t.Errorf("--stale rebuilt %v, want %v", ran, want)
	}
	ran = nil
	if err := j.RunStale(t.Context(), nil, false, each); err != nil || len(ran) != 0 {
		t.Errorf("a second --stale rebuilt %v (%v); want nothing", ran, err)
	}
	if got := l.rows("SELECT events_3d FROM gold.rolling ORDER BY event_date"); !slices.Equal(got, []string{"2", "3", "4"}) {
		t.Errorf("rolling = %v, want 2 3 4", got)
	}
}

func TestStaleGoldInputFollowsUpstream(t *testing.T) {
	l := newTestLake(t, map[string]*string{"types": ptr(`-- partition: event_date
SELECT event_date, count(*) AS types FROM gold.daily_metrics GROUP BY ALL
`)})
	day20(l)
	j := l.job()
	if err := j.RunStale(t.Context(), nil, false, func(string, StaleDay, *Summary) {}); err != nil {
		t.Fatal(err)
	}
	if got := l.rows("SELECT types FROM gold.types"); !slices.Equal(got, []string{"3"}) {
		t.Fatalf("types = %v, want 3", got)
	}
	l.ingest([]ev{{"u9", "refund", 5, "2026-11-20T10:00:00Z"}}, "2026-11-21T05:00:00Z", "2026-11-21T06:10:00Z")
	var ran []string
	if err := j.RunStale(t.Context(), nil, false, func(m string, d StaleDay, _ *Summary) { ran = append(ran, m+" "+d.Day.String()) }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"daily_metrics 2026-11-20", "types 2026-11-20", "user_daily 2026-11-20"}; !slices.Equal(ran, want) {
		t.Errorf("rebuilt %v, want %v (types after daily_metrics)", ran, want)
	}
	if got := l.rows("SELECT types FROM gold.types"); !slices.Equal(got, []string{"4"}) {
		t.Errorf("types = %v, want 4", got)
	}
}

func TestChangedModelMakesItsDaysStale(t *testing.T) {
	l := newTestLake(t, nil)
	day20(l)
	if _, err := l.job().RunDay(t.Context(), "user_daily", day("2026-11-20"), RunOptions{}); err != nil {
		t.Fatal(err)
	}
	m := l.models.Model("user_daily")
	m.text = strings.Replace(m.text, "AS spend", "AS spend, count(DISTINCT event_type) AS types", 1)
	if !strings.Contains(m.text, " AS types") {
		t.Fatal("the model's text did not change")
	}
	j := l.job()
	st := staleDays(t, j, "user_daily")
	if rs := st[day("2026-11-20")]; len(st) != 1 || !hasKind(rs, ReasonModel) {
		t.Fatalf("stale after the model changed: %v; want 2026-11-20 for the model", st)
	}
	sum, err := j.RunDay(t.Context(), "user_daily", day("2026-11-20"), RunOptions{})
	if err != nil || sum.Skipped {
		t.Fatalf("run after the change: %+v, %v; want a rebuild", sum, err)
	}
	if got := l.rows("SELECT user_id, types FROM gold.user_daily ORDER BY ALL"); !slices.Equal(got, []string{"u1 2", "u2 2"}) {
		t.Errorf("user_daily after the change = %v", got)
	}
	if st := staleDays(t, j, "user_daily"); len(st) != 0 {
		t.Errorf("stale after the rebuild: %v", st)
	}
}
