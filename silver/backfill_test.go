package silver

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/pipeline/jobenv"
)

// TestRunHoursStopsAtTheFirstUnsealedHour: a backfill whose range reaches into hours
// that are still open processes every sealed hour before them, then stops with an
// *UnsealedError that names the open hour and counts what was done.
func TestRunHoursStopsAtTheFirstUnsealedHour(t *testing.T) {
	l := newTestLake(t)
	var recs []rec
	for i, h := range []string{"2026-11-21T08:10:00Z", "2026-11-21T09:10:00Z", "2026-11-21T10:10:00Z"} {
		at := ts(h)
		recs = append(recs, rec{0, int64(i), at, event("e"+h, "u1", "click", 0, at)})
	}
	l.ingest(recs, ts("2026-11-21T10:30:00Z")) // 08 and 09 sealed, 10 open
	var hours []layout.Hour
	for _, h := range []string{"2026-11-21T08", "2026-11-21T09", "2026-11-21T10", "2026-11-21T11"} {
		hours = append(hours, hourAt(h))
	}
	var done []layout.Hour
	err := l.job().RunHours(t.Context(), "events", hours, RunOptions{}, func(s Summary) { done = append(done, s.Hour) })
	var unsealed *UnsealedError
	if !errors.As(err, &unsealed) {
		t.Fatalf("err = %v, want *UnsealedError", err)
	}
	if unsealed.Hour != hours[2] || unsealed.Done != 2 {
		t.Errorf("stopped at %s after %d hours, want %s after 2", unsealed.Hour, unsealed.Done, hours[2])
	}
	if len(done) != 2 || done[0] != hours[0] || done[1] != hours[1] {
		t.Errorf("summaries for %v, want the two sealed hours", done)
	}
	var n int64
	l.query(`SELECT count(*) FROM silver.events`, &n)
	if n != 2 {
		t.Errorf("silver holds %d rows, want the 2 events of the sealed hours", n)
	}

	// With Force every hour runs, the open ones as partial runs.
	done = nil
	if err := l.job().RunHours(t.Context(), "events", hours, RunOptions{Force: true}, func(s Summary) { done = append(done, s.Hour) }); err != nil {
		t.Fatalf("forced backfill: %v", err)
	}
	if len(done) != 4 {
		t.Errorf("forced backfill ran %v, want all 4 hours", done)
	}
}

// TestHoursWithoutData: hours before the stream's first data, and sealed hours
// without data, are skipped with no commit; hours after the current one are refused,
// even forced; a backfill from 1970 runs only the hours that hold data and says so
// up front.
func TestHoursWithoutData(t *testing.T) {
	l := newTestLake(t)
	at8, at10 := ts("2026-11-21T08:10:00Z"), ts("2026-11-21T10:10:00Z")
	l.ingest([]rec{{0, 0, at8, event("e8", "u1", "click", 0, at8)}, {0, 1, at10, event("e10", "u1", "click", 0, at10)}},
		ts("2026-11-21T11:30:00Z")) // 08..10 sealed, 09 without data
	job := NewJob(Config{
		Env: jobenv.Env{Store: l.store, Pipeline: l.p, Cache: l.cache, Engine: engine.Config{Threads: 2}, Now: func() time.Time { return ts("2026-11-21T12:30:00Z") }},
	})
	ctx := t.Context()
	silverVersion := func() int64 {
		snap, err := latestOrNil(ctx, lake.NewTable(l.store, Root("events")))
		if err != nil {
			t.Fatal(err)
		}
		if snap == nil {
			return -1
		}
		return snap.Version
	}

	for _, tt := range []struct {
		hour  string
		force bool
		first bool // FirstDataHour is 08
	}{
		{"1970-01-01T00", false, true}, // before the first data
		{"2026-11-21T07", true, true},
		{"2026-11-21T09", false, true}, // sealed, without data
		{"2026-11-21T12", true, true},  // the current hour, open, forced, without data
	} {
		sum, err := job.RunHour(ctx, "events", hourAt(tt.hour), RunOptions{Force: tt.force})
		if err != nil {
			t.Fatalf("hour %s: %v", tt.hour, err)
		}
		if !sum.Empty || sum.Version != -1 || sum.FirstDataHour == nil || *sum.FirstDataHour != hourAt("2026-11-21T08") {
			t.Errorf("hour %s: summary %+v, want empty, no version, first data hour 2026-11-21T08", tt.hour, sum)
		}
	}
	if v := silverVersion(); v != -1 {
		t.Errorf("silver/events at v%d after runs of hours without data, want no table", v)
	}
	if _, err := job.RunHour(ctx, "events", hourAt("2026-11-21T12"), RunOptions{}); !errors.As(err, new(*UnsealedError)) {
		t.Errorf("the current hour, not forced: err = %v, want *UnsealedError (its data may still come)", err)
	}
	for _, h := range []string{"2026-11-21T13", "2999-01-01T00"} {
		var future *FutureHourError
		if _, err := job.RunHour(ctx, "events", hourAt(h), RunOptions{Force: true}); !errors.As(err, &future) || future.Hour != hourAt(h) {
			t.Errorf("hour %s forced: err = %v, want *FutureHourError", h, err)
		}
	}

	from, to := hourAt("1970-01-01T00"), hourAt("2026-11-21T12")
	total := int(to.Time().Sub(from.Time())/time.Hour) + 1
	cov, err := job.Coverage(ctx, "events", from, to)
	if err != nil {
		t.Fatal(err)
	}
	want := []layout.Hour{hourAt("2026-11-21T08"), hourAt("2026-11-21T10")}
	if !slices.Equal(cov.Data, want) || cov.Hours != total || cov.Before != total-5 || cov.First == nil || *cov.First != want[0] {
		t.Errorf("coverage: data %v of %d hours, %d before %v; want data %v of %d, %d before 2026-11-21T08", cov.Data, cov.Hours, cov.Before, cov.First, want, total, total-5)
	}
	if got, wantLine := cov.String(), fmt.Sprintf("events: 2 of %d hours hold data in bronze/events (%d before its first data, 2026-11-21T08, skipped)", total, total-5); got != wantLine {
		t.Errorf("coverage line %q, want %q", got, wantLine)
	}
	if cov, err := job.Coverage(ctx, "events", hourAt("2026-11-21T09"), hourAt("2026-11-21T09")); err != nil || len(cov.Data) != 0 || cov.Before != 0 {
		t.Errorf("coverage of the empty hour 09: %+v, %v; want no data and none before the first", cov, err)
	}
	var done []layout.Hour
	if err := job.RunHours(ctx, "events", cov.Data, RunOptions{}, func(s Summary) { done = append(done, s.Hour) }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(done, want) {
		t.Errorf("backfill from 1970 ran %v, want %v", done, want)
	}
	if v := silverVersion(); v != 1 {
		t.Errorf("silver/events at v%d after the backfill, want v1: one commit per hour with data", v)
	}
	if _, err := job.Coverage(ctx, "events", from, hourAt("2026-11-21T13")); !errors.As(err, new(*FutureHourError)) {
		t.Errorf("a range into the future: err = %v, want *FutureHourError", err)
	}
	if pending, err := job.Pending(ctx, "events"); err != nil || len(pending) != 0 {
		t.Errorf("pending after the backfill: %v, %v; want none", pending, err)
	}
}
