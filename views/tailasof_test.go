package views

import (
	"slices"
	"testing"
	"time"

	"github.com/lakectl/lakectl/lake"
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
	l.Pipeline.Table("events").Enrich[0].AsOf = pipeline.AsOfEventTime
	// The second version of the reference: u3 on enterprise from 12:00.
	l.moveU3ToEnterprise(ts("2026-11-21T12:00:00Z"))
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

// TestLiveTailUnversionedRef: a reference written before references kept history (the
// rows alone, no validity columns) is read by the live tail as by the hourly job: its
// rows valid since ever.
func TestLiveTailUnversionedRef(t *testing.T) {
	plans := "-- description: Each event's user and plan.\nSELECT user_id, plan FROM silver.events\n"
	l := newTestLake(t, map[string]*string{"plans": &plans})
	writeUnversionedRef(t, l, "users", `SELECT * FROM (VALUES ('u1', 'CA', 'free'), ('u3', 'NL', 'pro')) v(user_id, country, plan)`)
	l.ingest([]ev{{"u1", "click", 0, "2026-11-21T12:05:00Z"}}, "2026-11-21T12:10:00Z", "2026-11-21T13:10:00Z")
	l.ingest([]ev{{"u3", "click", 0, "2026-11-21T13:20:00Z"}}, "2026-11-21T13:25:00Z", "2026-11-21T13:15:00Z")
	if got := l.rows("SELECT user_id, plan FROM silver.events"); !slices.Equal(got, []string{"u1 free"}) {
		t.Fatalf("Silver holds %q; want u1's event of hour 12 alone, hour 13 unprocessed", got)
	}
	if _, err := l.job(nil).Refresh(t.Context(), "plans", Options{LiveTail: true}); err != nil {
		t.Fatal(err)
	}
	if got, want := l.rows("SELECT * FROM views.plans ORDER BY ALL"), []string{"u1 free", "u3 pro"}; !slices.Equal(got, want) {
		t.Errorf("plans over the live tail = %q, want %q", got, want)
	}
}

// writeUnversionedRef commits the rows of query as the next version of ref/<name> the
// way lakectl wrote references before they kept history: the rows alone.
func writeUnversionedRef(t *testing.T, l *testLake, name, query string) {
	t.Helper()
	ctx := t.Context()
	rt := lake.NewTable(l.Store, silver.RefRoot(name))
	snap, err := latestOrNil(ctx, rt)
	if err != nil {
		t.Fatal(err)
	}
	adds, err := l.Sess.WriteFiles(ctx, rt, nil, query)
	if err != nil {
		t.Fatal(err)
	}
	schema, err := l.Sess.QuerySchema(ctx, query)
	if err != nil {
		t.Fatal(err)
	}
	schemaJSON, err := schema.JSON()
	if err != nil {
		t.Fatal(err)
	}
	tx := rt.Begin(snap)
	md := lake.Metadata{Name: name, Format: lake.Format{Provider: "parquet", Options: map[string]string{}},
		SchemaString: schemaJSON, Configuration: map[string]string{}}
	if snap != nil {
		md.ID = snap.Metadata.ID
		for _, a := range snap.Files() {
			tx.Remove(a.RemoveAt(time.Now()))
		}
	}
	tx.SetMetadata(md)
	tx.Add(adds...)
	if _, err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}
