package views

import (
	"io/fs"
	"slices"
	"strings"
	"testing"

	example "github.com/lakectl/lakectl/testdata/pipeline"
)

// day20 fills 2026-11-20 and the first hours of 2026-11-21.
func day20(l *testLake) {
	l.ingest([]ev{
		{"u1", "purchase", 10.05, "2026-11-20T08:10:00Z"},
		{"u1", "click", 0, "2026-11-20T08:20:00Z"},
		{"u2", "purchase", 20.05, "2026-11-20T09:00:00Z"},
		{"u3", "page_view", 0, "2026-11-20T09:30:00Z"},
	}, "2026-11-20T09:35:00Z", "2026-11-20T10:10:00Z")
	l.ingest([]ev{
		{"u2", "page_view", 0, "2026-11-21T00:30:00Z"},
		{"u4", "purchase", 5, "2026-11-21T00:45:00Z"},
	}, "2026-11-21T00:50:00Z", "2026-11-21T01:10:00Z")
}

// The seed's views written by hand over Silver, each a different formulation from
// the view's own SQL.
const (
	handTrends = `SELECT time_bucket(INTERVAL 1 HOUR, "timestamp") AS hour, event_type, count(*),
  CAST(sum(CASE WHEN event_type = 'purchase' THEN amount ELSE 0 END) AS DECIMAL(18,2)), count(DISTINCT user_id)
FROM silver.events GROUP BY 1, 2`
	handDaily = `SELECT CAST("timestamp" AS DATE), count(*), CAST(sum(CASE WHEN event_type = 'purchase' THEN amount ELSE 0 END) AS DECIMAL(18,2)),
  count(DISTINCT user_id), CAST(sum(CASE WHEN event_type = 'purchase' THEN amount ELSE 0 END) / count(DISTINCT user_id) AS DECIMAL(18,2))
FROM silver.events GROUP BY 1`
)

// differ counts the rows that are in one of view and hand and not in the other.
func differ(view, hand string) string {
	return "SELECT count(*) FROM ((SELECT * FROM " + view + " EXCEPT ALL " + hand + ") UNION ALL (" + hand + " EXCEPT ALL SELECT * FROM " + view + "))"
}

func TestRefreshEqualsHandWrittenSQL(t *testing.T) {
	l := newTestLake(t, nil)
	day20(l)
	j := l.job(nil)
	for _, v := range l.views.Order {
		sum, err := j.Refresh(t.Context(), v.Name, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Skipped || sum.Mode != ModeFull || sum.Reason != "first refresh" || sum.Version != 0 {
			t.Errorf("%s: %+v; want a full first refresh committed as v0", v.Name, sum)
		}
	}
	for view, hand := range map[string]string{"views.hourly_trends": handTrends, "views.daily_summary": handDaily} {
		if got := l.rows(differ(view, hand)); !slices.Equal(got, []string{"0"}) {
			t.Errorf("%s: %v rows differ from the hand-written SQL", view, got)
		}
	}
	// The last hour up to the newest event (00:45 on the 21st): the two events of
	// the 21st; 09:30 of the 20th is more than an hour earlier.
	if got, want := l.rows("SELECT events, active_users, revenue, newest_event_at FROM views.realtime_kpis"),
		[]string{"2 2 5 2026-11-21 00:45:00 +0000 UTC"}; !slices.Equal(got, want) {
		t.Errorf("realtime_kpis = %q, want %q", got, want)
	}
	if got, want := l.rows("SELECT count(*) FROM views.hourly_trends"), []string{"6"}; !slices.Equal(got, want) {
		t.Errorf("hourly_trends rows = %v, want %v", got, want)
	}
	for _, v := range l.views.Order {
		sum, err := j.Refresh(t.Context(), v.Name, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !sum.Skipped || sum.Version != 0 || !strings.Contains(sum.Reason, "no input changed") {
			t.Errorf("%s second refresh: %+v; want skipped at v0", v.Name, sum)
		}
		if h := l.history(v.Name); len(h) != 1 {
			t.Errorf("%s: %d versions after a refresh with no input change, want 1", v.Name, len(h))
		}
	}
}

func TestIncrementalRefreshRecomputesOnlyTouchedDays(t *testing.T) {
	// Copies of the two views, refreshed only after the late data: all at once.
	trends, daily := readSeed(t, "hourly_trends"), readSeed(t, "daily_summary")
	l := newTestLake(t, map[string]*string{"hourly_trends_full": &trends, "daily_summary_full": &daily})
	day20(l)
	j := l.job(nil)
	for _, name := range []string{"hourly_trends", "daily_summary"} {
		if _, err := j.Refresh(t.Context(), name, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	// A late event of the 20th, ingested the next morning.
	l.ingest([]ev{{"u5", "purchase", 7.5, "2026-11-20T08:59:00Z"}}, "2026-11-21T09:30:00Z", "2026-11-21T10:10:00Z")
	for name, hand := range map[string]string{"hourly_trends": handTrends, "daily_summary": handDaily} {
		sum, err := j.Refresh(t.Context(), name, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Mode != ModeIncremental || !slices.Equal(sum.Days, []string{"2026-11-20"}) || sum.Version != 1 {
			t.Errorf("%s: %+v; want an incremental refresh of 2026-11-20 as v1", name, sum)
		}
		h := l.history(name)
		last := h[len(h)-1]
		if last.Info["mode"] != ModeIncremental || !strings.Contains(last.Info["reason"].(string), "touched 2026-11-20") {
			t.Errorf("%s commitInfo mode %v reason %v; want incremental, saying which days", name, last.Info["mode"], last.Info["reason"])
		}
		parts, _ := last.Info["partitions"].([]any)
		if len(parts) == 0 {
			t.Errorf("%s: the commit records no partitions", name)
		}
		for _, p := range parts {
			for _, v := range p.(map[string]any) {
				if !strings.HasPrefix(v.(string), "2026-11-20") {
					t.Errorf("%s: the incremental commit touched partition %v, not of 2026-11-20", name, v)
				}
			}
		}
		if _, ok := last.Info["inputs"].(map[string]any)["silver/events"]; !ok || last.Info["durationMs"] == nil {
			t.Errorf("%s: commitInfo %v; want the input versions and the duration", name, last.Info)
		}
		if got := l.rows(differ("views."+name, hand)); !slices.Equal(got, []string{"0"}) {
			t.Errorf("%s after an incremental refresh: %v rows differ from the hand-written SQL", name, got)
		}
		if got, want := l.rows("SELECT * FROM views."+name+" ORDER BY ALL"), l.fullRows(j, name+"_full"); !slices.Equal(got, want) {
			t.Errorf("%s: incremental refresh gives\n%q\na full refresh\n%q", name, got, want)
		}
	}
}

// fullRows refreshes view (for the first time: a full refresh) and returns its rows.
func (l *testLake) fullRows(j *Job, view string) []string {
	l.T.Helper()
	sum, err := j.Refresh(l.T.Context(), view, Options{})
	if err != nil {
		l.T.Fatal(err)
	}
	if sum.Mode != ModeFull {
		l.T.Fatalf("%s: %+v, want a full refresh", view, sum)
	}
	return l.rows("SELECT * FROM views." + view + " ORDER BY ALL")
}

// readSeed is the text of a view of the example pipeline.
func readSeed(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(example.FS, "views/"+name+".sql")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
