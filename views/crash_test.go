package views

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/gold"
	"github.com/lakectl/lakectl/lake"
)

// stop is what the crash hook panics with: the refresh dies at its point, as a
// process killed there would, without reaching its commit.
type stop struct{}

func TestCrashMidRefreshKeepsThePreviousVersion(t *testing.T) {
	for _, point := range []string{HookBuilt, HookFilesWritten} {
		t.Run(point, func(t *testing.T) {
			l := newTestLake(t, nil)
			day20(l)
			if _, err := l.job(nil).Refresh(t.Context(), "hourly_trends", Options{}); err != nil {
				t.Fatal(err)
			}
			before := l.rows("SELECT * FROM views.hourly_trends ORDER BY ALL")
			l.ingest([]ev{{"u5", "purchase", 7.5, "2026-11-20T08:59:00Z"}}, "2026-11-21T09:30:00Z", "2026-11-21T10:10:00Z")
			crash := l.job(func(at string) {
				if at == point {
					panic(stop{})
				}
			})
			func() {
				defer func() {
					if r := recover(); r != (stop{}) {
						t.Fatalf("recovered %v, want the crash at %s", r, point)
					}
				}()
				crash.Refresh(t.Context(), "hourly_trends", Options{})
			}()
			if h := l.history("hourly_trends"); len(h) != 1 {
				t.Fatalf("%d versions after a crash at %s, want the previous one alone", len(h), point)
			}
			if got := l.rows("SELECT * FROM views.hourly_trends ORDER BY ALL"); !slices.Equal(got, before) {
				t.Errorf("rows after the crash %q, want the previous version's %q", got, before)
			}
			sum, err := l.job(nil).Refresh(t.Context(), "hourly_trends", Options{})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Version != 1 || sum.Mode != ModeIncremental {
				t.Errorf("rerun: %+v; want the incremental refresh committed as v1", sum)
			}
			if got := l.rows(differ("views.hourly_trends", handTrends)); !slices.Equal(got, []string{"0"}) {
				t.Errorf("after the rerun %v rows differ from the hand-written SQL", got)
			}
		})
	}
}

func TestRefreshRefusesATimeColumnThatIsNoTime(t *testing.T) {
	text := "-- description: d\n-- time: event_type\nSELECT event_type, count(*) AS n FROM silver.events GROUP BY ALL\n"
	l := newTestLake(t, map[string]*string{"by_type": &text})
	day20(l)
	_, err := l.job(nil).Refresh(t.Context(), "by_type", Options{})
	var me *gold.ModelError
	if !errors.As(err, &me) || me.Line != 2 || !strings.Contains(me.Msg, "must be a DATE or a TIMESTAMP") {
		t.Errorf("err = %v; want views/by_type.sql:2 saying the time column must be a DATE or a TIMESTAMP", err)
	}
}

func TestRefreshRefusesAColumnDeltaCannotStore(t *testing.T) {
	text := "-- description: d\nSELECT event_type,\n  sum(CAST(1 AS BIGINT)) AS n FROM silver.events GROUP BY ALL\n"
	l := newTestLake(t, map[string]*string{"huge": &text})
	day20(l)
	_, err := l.job(nil).Refresh(t.Context(), "huge", Options{})
	var me *gold.ModelError
	if !errors.As(err, &me) || me.Line != 2 || !strings.Contains(me.Msg, "column n: ") || !strings.Contains(me.Msg, "cast it") {
		t.Errorf("err = %v; want views/huge.sql:2 naming column n and saying to cast it", err)
	}
	if _, err := lake.NewTable(l.Store, Root("huge")).Latest(t.Context()); !errors.Is(err, lake.ErrNoTable) {
		t.Errorf("the view's table after a refused refresh: %v, want none", err)
	}
}
