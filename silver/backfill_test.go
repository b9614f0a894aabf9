package silver

import (
	"errors"
	"testing"

	"github.com/lakectl/lakectl/bronze/layout"
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
