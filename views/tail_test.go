package views

import (
	"slices"
	"testing"
)

// TestLiveTail: events ingested into the open hour, which Silver has not processed,
// appear in realtime_kpis through the live tail: parsed and checked by the Silver
// contract (a rejected row left out, as Silver quarantines it), deduplicated within
// the tail and against Silver; the figures equal a computation by hand over the
// events that count.
func TestLiveTail(t *testing.T) {
	l := newTestLake(t, nil)
	day20(l) // Silver holds e1..e6, through 2026-11-21T00:45
	ev := func(id, user, typ string, amount float64, at string) map[string]any {
		return map[string]any{"event_id": id, "user_id": user, "event_type": typ, "amount": amount, "timestamp": at}
	}
	// Ingest hour 2026-11-21T01 is open: the sealing mark stays where it was.
	l.ingestPayloads([]map[string]any{
		ev("t1", "u7", "purchase", 12.5, "2026-11-21T01:05:00Z"),
		ev("t1", "u7", "purchase", 12.5, "2026-11-21T01:05:00Z"), // a duplicate within the tail
		ev("e6", "u4", "purchase", 5, "2026-11-21T00:45:00Z"),    // a duplicate of a Silver row
		ev("t2", "u8", "bogus", 1, "2026-11-21T01:10:00Z"),       // rejected: not an event type
		ev("t3", "u2", "click", 0, "2026-11-21T01:20:00Z"),
	}, "2026-11-21T01:25:00Z", "2026-11-21T01:10:00Z")
	if got := l.rows("SELECT count(*) FROM silver.events"); !slices.Equal(got, []string{"6"}) {
		t.Fatalf("Silver holds %v rows; want the 6 of day20, the open hour unprocessed", got)
	}
	j := l.job(nil)
	sum, err := j.Refresh(t.Context(), "realtime_kpis", Options{LiveTail: true})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Mode != ModeFull || sum.TailFiles == 0 || sum.Inputs["bronze/events"] == 0 {
		t.Errorf("%+v; want a full refresh that read the tail's Bronze files and records Bronze's version", sum)
	}
	// By hand: the events that count within the hour up to the newest (01:20):
	// 00:30 page_view u2, 00:45 purchase u4 5, 01:05 purchase u7 12.5, 01:20 click u2.
	if got, want := l.rows("SELECT events, active_users, revenue, newest_event_at FROM views.realtime_kpis"),
		[]string{"4 3 17.5 2026-11-21 01:20:00 +0000 UTC"}; !slices.Equal(got, want) {
		t.Errorf("realtime_kpis over the live tail = %q, want %q", got, want)
	}
	again, err := j.Refresh(t.Context(), "realtime_kpis", Options{LiveTail: true})
	if err != nil {
		t.Fatal(err)
	}
	if !again.Skipped {
		t.Errorf("a second live-tail refresh with nothing new: %+v; want skipped", again)
	}
	// Once Silver has processed the hour, the view says the same through Silver.
	l.ingest(nil, "2026-11-21T02:00:00Z", "2026-11-21T02:10:00Z")
	if got := l.rows("SELECT count(*) FROM silver.events"); !slices.Equal(got, []string{"8"}) {
		t.Fatalf("Silver holds %v rows after processing the hour, want 8", got)
	}
	if _, err := j.Refresh(t.Context(), "realtime_kpis", Options{LiveTail: true}); err != nil {
		t.Fatal(err)
	}
	if got, want := l.rows("SELECT events, active_users, revenue FROM views.realtime_kpis"), []string{"4 3 17.5"}; !slices.Equal(got, want) {
		t.Errorf("realtime_kpis after Silver caught up = %q, want %q", got, want)
	}
}
