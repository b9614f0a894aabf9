package views

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lakectl/lakectl/pipeline"
	"github.com/lakectl/lakectl/silver"
)

// TestLiveTailPointInTime: user u3 changes plan from pro to enterprise at 12:00. The
// live tail of an hour Silver has not processed joins the reference as the hourly job
// does (as_of: event_time, over the reference's history): u3's event before 12:00
// carries pro, those from 12:00 on enterprise; and Silver, once it has processed
// the hour, says the same.
func TestLiveTailPointInTime(t *testing.T) {
	plans := "-- description: Each event's user and plan.\nSELECT \"timestamp\", user_id, plan FROM silver.events WHERE \"timestamp\" >= TIMESTAMPTZ '2026-11-21 11:00:00Z'\n"
	l := newTestLake(t, map[string]*string{"plans": &plans})
	l.p.Table("events").Enrich[0].AsOf = pipeline.AsOfEventTime
	// The second version of the reference: u3 on enterprise from 12:00.
	src, err := os.ReadFile(l.p.Path(l.p.Ref("users").File))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(file, []byte(strings.Replace(string(src), "\nu3,NL,pro\n", "\nu3,NL,enterprise\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := silver.RefSpecOf(*l.p.Ref("users"), file)
	spec.ValidFrom = ts("2026-11-21T12:00:00Z")
	if _, err := silver.LoadRef(t.Context(), l.store, l.sess, spec, time.Now()); err != nil {
		t.Fatal(err)
	}
	day20(l)
	// Ingest hour 2026-11-21T12 stays open: the sealing mark stays before it.
	l.ingest([]ev{
		{"u3", "click", 0, "2026-11-21T11:59:59Z"},
		{"u3", "click", 0, "2026-11-21T12:00:00Z"},
		{"u3", "purchase", 10, "2026-11-21T12:30:00Z"},
		{"u1", "click", 0, "2026-11-21T12:30:00Z"},
	}, "2026-11-21T12:31:00Z", "2026-11-21T12:10:00Z")
	if got := l.rows("SELECT count(*) FROM silver.events"); !slices.Equal(got, []string{"6"}) {
		t.Fatalf("Silver holds %v rows; want the 6 of day20, hour 12 unprocessed", got)
	}
	want := []string{
		"2026-11-21 11:59:59 +0000 UTC u3 pro",
		"2026-11-21 12:00:00 +0000 UTC u3 enterprise",
		"2026-11-21 12:30:00 +0000 UTC u1 free",
		"2026-11-21 12:30:00 +0000 UTC u3 enterprise",
	}
	j := l.job(nil)
	sum, err := j.Refresh(t.Context(), "plans", Options{LiveTail: true})
	if err != nil {
		t.Fatal(err)
	}
	if sum.TailFiles == 0 {
		t.Errorf("%+v; want a refresh that read the tail's Bronze files", sum)
	}
	if got := l.rows("SELECT * FROM views.plans ORDER BY ALL"); !slices.Equal(got, want) {
		t.Errorf("plans over the live tail = %q, want %q", got, want)
	}
	// Silver, once it has processed the hour, holds the same plans.
	l.ingest(nil, "2026-11-21T13:00:00Z", "2026-11-21T13:10:00Z")
	if got := l.rows(`SELECT "timestamp", user_id, plan FROM silver.events WHERE "timestamp" >= TIMESTAMPTZ '2026-11-21 11:00:00Z' ORDER BY ALL`); !slices.Equal(got, want) {
		t.Errorf("Silver after processing the hour = %q, want %q", got, want)
	}
}
