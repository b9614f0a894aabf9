package views

import (
	"slices"
	"strings"
	"testing"
	"time"
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
	l.IngestPayloads([]map[string]any{
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

// TestFreshness: freshness follows event time. An event of 01:05 is ingested at
// 01:25 (its producer held it back 20 minutes) and Bronze is sealed through 01:30:
// a live-tail refresh reflects the events through 01:05, the newest event it holds,
// though everything ingested before 01:30 is in it; a refresh through Silver,
// whose ingest mark is 01:00 (hour 01 unprocessed), through 00:45, Silver's newest
// event. The commit keeps both marks; status grades each consumer by event time
// against its warn and breach levels.
func TestFreshness(t *testing.T) {
	l := newTestLake(t, nil)
	day20(l)
	l.ingest([]ev{{"u7", "purchase", 12.5, "2026-11-21T01:05:00Z"}}, "2026-11-21T01:25:00Z", "2026-11-21T01:30:00Z")
	j := l.job(nil)
	if _, err := j.Refresh(t.Context(), "realtime_kpis", Options{LiveTail: true}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"hourly_trends", "daily_summary"} {
		if _, err := j.Refresh(t.Context(), name, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	for view, want := range map[string][2]string{
		"realtime_kpis": {"2026-11-21T01:05:00Z", "2026-11-21T01:30:00Z"},
		"hourly_trends": {"2026-11-21T00:45:00Z", "2026-11-21T01:00:00Z"},
	} {
		h := l.history(view)
		if got := [2]any{h[len(h)-1].Info["reflectsThrough"], h[len(h)-1].Info["ingestedThrough"]}; got != [2]any{want[0], want[1]} {
			t.Errorf("%s reflects events through %v, ingested through %v; want %s, %s", view, got[0], got[1], want[0], want[1])
		}
	}
	for _, tc := range []struct {
		now        string
		ops, other string
	}{
		{"2026-11-21T01:06:00Z", "ok", "ok"},
		{"2026-11-21T01:06:45Z", "warn", "ok"},       // 1m45s after 01:05: past 3/4 of 2m
		{"2026-11-21T01:07:01Z", "breach", "ok"},     // past 2m
		{"2026-11-21T02:16:00Z", "breach", "warn"},   // product: 1h31m after 00:45, past its warn: 90m
		{"2026-11-21T02:46:00Z", "breach", "breach"}, // product: 2h1m
	} {
		vs, cs, err := Status(t.Context(), l.Store, l.Pipeline, l.views, ts(tc.now))
		if err != nil {
			t.Fatal(err)
		}
		levels := map[string]string{}
		for _, c := range cs {
			levels[c.Name] = c.Level
		}
		if levels["ops-dashboard"] != tc.ops || levels["product"] != tc.other || levels["finance"] != LevelUnknown {
			t.Errorf("at %s: %v; want ops-dashboard %s, product %s, finance unknown (no Gold yet)", tc.now, cs, tc.ops, tc.other)
		}
		for _, v := range vs {
			if v.Version != 0 || len(v.Refreshes) != 1 || v.Refreshes[0].Mode != ModeFull {
				t.Errorf("status of %s: %+v; want v0 and its one full refresh", v.Name, v)
			}
			if r := v.Refreshes[0]; v.Name == "realtime_kpis" && (!r.Through.Equal(ts("2026-11-21T01:05:00Z")) || !r.Ingested.Equal(ts("2026-11-21T01:30:00Z"))) {
				t.Errorf("status of realtime_kpis: through %v, ingested through %v; want 01:05 and 01:30", r.Through, r.Ingested)
			}
		}
	}
}

// TestFreshnessBoundedByTheIngestMark: an event stamped 01:40 by a clock ahead of
// the ingest's, ingested at 01:26 with Bronze sealed through 01:30, does not make
// the view reflect the events through 01:40: events of 01:30 to 01:40 may still
// come. It reflects them through 01:30.
func TestFreshnessBoundedByTheIngestMark(t *testing.T) {
	l := newTestLake(t, nil)
	day20(l)
	l.ingest([]ev{{"u7", "click", 0, "2026-11-21T01:40:00Z"}}, "2026-11-21T01:26:00Z", "2026-11-21T01:30:00Z")
	if _, err := l.job(nil).Refresh(t.Context(), "realtime_kpis", Options{LiveTail: true}); err != nil {
		t.Fatal(err)
	}
	got, ok, err := ReflectsThrough(t.Context(), l.Store, "views.realtime_kpis")
	if err != nil || !ok || !got.Equal(ts("2026-11-21T01:30:00Z")) {
		t.Errorf("realtime_kpis reflects the events through %v (%v, %v); want 01:30, the sealing mark", got, ok, err)
	}
}

// TestLiveTailRecordsReferenceVersions: a live-tail refresh records the version of
// the reference table its contract joins (the view itself reads only silver.events),
// so that a new version of the reference alone is a change that the next refresh
// picks up, and names.
func TestLiveTailRecordsReferenceVersions(t *testing.T) {
	l := newTestLake(t, nil)
	day20(l)
	l.ingest([]ev{{"u3", "click", 0, "2026-11-21T01:05:00Z"}}, "2026-11-21T01:25:00Z", "2026-11-21T01:10:00Z")
	j := l.job(nil)
	sum, err := j.Refresh(t.Context(), "realtime_kpis", Options{LiveTail: true})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := sum.Inputs["ref/users"]; !ok || v != 0 {
		t.Fatalf("inputs %v; want ref/users at v0 among them", sum.Inputs)
	}
	h := l.history("realtime_kpis")
	if got, ok := h[len(h)-1].Info["inputs"].(map[string]any)["ref/users"]; !ok || got != float64(0) {
		t.Fatalf("commitInfo.inputs %v; want ref/users at v0 among them", h[len(h)-1].Info["inputs"])
	}
	l.moveU3ToEnterprise(time.Time{})
	again, err := j.Refresh(t.Context(), "realtime_kpis", Options{LiveTail: true})
	if err != nil {
		t.Fatal(err)
	}
	if again.Skipped || again.Mode != ModeFull || !strings.Contains(again.Reason, "ref/users v1") || again.Inputs["ref/users"] != 1 {
		t.Errorf("after a new version of the reference: %+v; want a full refresh because of ref/users v1, recording it", again)
	}
	views, _, err := Status(t.Context(), l.Store, l.Pipeline, l.views, ts("2026-11-21T01:30:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range views {
		if v.Name == "realtime_kpis" {
			if rs := v.Refreshes; len(rs) != 2 || rs[1].Inputs["ref/users"] != 1 || rs[0].Inputs["ref/users"] != 0 {
				t.Errorf("status of realtime_kpis: %+v; want two refreshes that read ref/users v0, then v1", rs)
			}
		}
	}
}
