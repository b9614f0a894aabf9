package silver

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lakectl/lakectl/pipeline"
)

// loadUsers loads a new version of ref/users: the example's users with the plan of
// user u3 set to plan, valid from validFrom (zero: the load's time).
func (l *testLake) loadUsers(plan string, validFrom time.Time) {
	t := l.t
	t.Helper()
	src, err := os.ReadFile(l.p.Path(l.p.Ref("users").File))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(file, []byte(strings.Replace(string(src), "\nu3,NL,pro\n", "\nu3,NL,"+plan+"\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := RefSpecOf(*l.p.Ref("users"), file)
	spec.ValidFrom = validFrom
	if _, err := LoadRef(t.Context(), l.store, l.sess, spec, time.Now()); err != nil {
		t.Fatal(err)
	}
}

// hour12 is user u3's events around 12:00, ingested in hour 12.
func hour12() []rec {
	in := ts("2026-11-21T12:31:00Z")
	return []rec{
		{0, 0, in, event("e1", "u3", "click", 0, ts("2026-11-21T11:59:59Z"))},
		{0, 1, in, event("e2", "u3", "click", 0, ts("2026-11-21T12:00:00Z"))},
		{0, 2, in, event("e3", "u3", "purchase", 10, ts("2026-11-21T12:30:00Z"))},
		{0, 3, in, event("e4", "u1", "click", 0, ts("2026-11-21T12:30:00Z"))},
	}
}

// plans lists each Silver event's plan, in event order.
func (l *testLake) plans() string {
	l.t.Helper()
	var s string
	l.query(`SELECT string_agg(event_id || '=' || coalesce(plan, 'NULL'), ' ' ORDER BY event_id) FROM silver.events`, &s)
	return s
}

// TestPointInTime: user u3 changes plan from pro to enterprise at 12:00. With as_of:
// event_time, events before 12:00 carry pro and events from 12:00 on enterprise; a
// later version of the reference does not change a re-run of the hour from scratch.
// With as_of: current every event carries the plan of the latest load.
func TestPointInTime(t *testing.T) {
	for _, tc := range []struct {
		asOf              string
		first, afterLater string
	}{
		{pipeline.AsOfEventTime, "e1=pro e2=enterprise e3=enterprise e4=free", "e1=pro e2=enterprise e3=enterprise e4=free"},
		{pipeline.AsOfCurrent, "e1=enterprise e2=enterprise e3=enterprise e4=free", "e1=free e2=free e3=free e4=free"},
	} {
		t.Run(tc.asOf, func(t *testing.T) {
			l := newTestLake(t)
			l.p.Table("events").Enrich[0].AsOf = tc.asOf
			l.loadUsers("enterprise", ts("2026-11-21T12:00:00Z"))
			l.ingest(hour12(), ts("2026-11-21T13:10:00Z"))
			h := hourAt("2026-11-21T12")
			if _, err := l.job().RunHour(t.Context(), "events", h, RunOptions{}); err != nil {
				t.Fatal(err)
			}
			if got := l.plans(); got != tc.first {
				t.Errorf("first run: %s, want %s", got, tc.first)
			}
			// A later version, valid from now; then the hour again, from scratch.
			l.loadUsers("free", time.Time{})
			if err := os.RemoveAll(filepath.Join(l.dir, Root("events"))); err != nil {
				t.Fatal(err)
			}
			if _, err := l.job().RunHour(t.Context(), "events", h, RunOptions{Reprocess: true}); err != nil {
				t.Fatal(err)
			}
			if got := l.plans(); got != tc.afterLater {
				t.Errorf("re-run after a later version: %s, want %s", got, tc.afterLater)
			}
		})
	}
}
