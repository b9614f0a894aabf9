package silver

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/lake"
)

// hour8 is a Bronze hour with valid events, duplicates (in the batch), one late event,
// and malformed ones.
func hour8() []rec {
	at := ts("2026-11-21T08:00:00Z")
	in := func(m int) time.Time { return at.Add(time.Duration(m) * time.Minute) }
	return []rec{
		{0, 0, in(1), event("e1", "u1", "page_view", 0, in(1))},
		{0, 1, in(2), event("e2", "u2", "purchase", 12.5, in(2))},
		{1, 0, in(3), event("e1", "u1", "page_view", 0, in(1))},                  // resend of e1
		{1, 1, in(4), event("e3", "u3", "click", 0, ts("2026-11-19T23:30:00Z"))}, // late
		{1, 2, in(5), `{"event_id":"e4","user_id"`},                              // truncated
		{2, 0, in(6), event("e5", "u5", "refund", 3, in(6))},
		{2, 1, in(7), `{"event_id":"e6","event_type":"click","amount":0,"timestamp":"2026-11-21T08:07:00Z"}`},
		{2, 2, in(8), event("e2", "u2", "purchase", 12.5, in(2))}, // resend of e2
	}
}

func TestRunHour(t *testing.T) {
	l := newTestLake(t)
	l.ingest(hour8(), ts("2026-11-21T09:10:00Z"))
	job := l.job()
	sum, err := job.RunHour(t.Context(), "events", hourAt("2026-11-21T08"), RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := Summary{RowsIn: 8, Valid: 6, Quarantined: 2, Duplicates: 2, Late: 1, Written: 4}
	if sum.RowsIn != want.RowsIn || sum.Valid != want.Valid || sum.Quarantined != want.Quarantined ||
		sum.Duplicates != want.Duplicates || sum.Late != want.Late || sum.Written != want.Written {
		t.Errorf("summary = %+v, want counts %+v", sum, want)
	}
	wantParts := []Partition{{"2026-11-19", 23}, {"2026-11-21", 8}}
	if !slices.Equal(sum.Partitions, wantParts) {
		t.Errorf("partitions = %v, want %v", sum.Partitions, wantParts)
	}

	var n, distinct, enriched int64
	l.query(`SELECT count(*), count(DISTINCT event_id), count(country) FROM silver.events`, &n, &distinct, &enriched)
	if n != 4 || distinct != 4 || enriched != 4 {
		t.Errorf("silver rows, distinct ids, enriched = %d, %d, %d; want 4, 4, 4", n, distinct, enriched)
	}
	var winner int64
	l.query(`SELECT _partition FROM silver.events WHERE event_id = 'e1'`, &winner)
	if winner != 0 {
		t.Errorf("e1 kept from partition %d, want 0 (same event time, earlier ingest)", winner)
	}
	var q, withReason, withPayload int64
	var reasons string
	l.query(`SELECT count(*), count(reason), count(payload), string_agg(reason, ' | ' ORDER BY "offset") FROM quarantine.events`, &q, &withReason, &withPayload, &reasons)
	if q != 2 || withReason != 2 || withPayload != 2 {
		t.Errorf("quarantine rows, with reason, with payload = %d, %d, %d; want 2, 2, 2", q, withReason, withPayload)
	}
	if reasons != "user_id: missing | payload: not valid JSON" {
		t.Errorf("quarantine reasons = %q", reasons)
	}

	before := l.files(Root("events"))
	qBefore := l.files(QuarantineRoot("events"))
	again, err := job.RunHour(t.Context(), "events", hourAt("2026-11-21T08"), RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !again.Skipped {
		t.Errorf("second run of the hour did work: %+v", again)
	}
	if got := l.files(Root("events")); !slices.Equal(got, before) {
		t.Errorf("second run changed silver files:\n got %v\nwant %v", got, before)
	}
	if got := l.files(QuarantineRoot("events")); !slices.Equal(got, qBefore) {
		t.Errorf("second run changed quarantine files")
	}
}

func TestUnsealedHour(t *testing.T) {
	l := newTestLake(t)
	recs := hour8()
	l.ingest(recs[:4], ts("2026-11-21T08:30:00Z"))
	job := l.job()
	_, err := job.RunHour(t.Context(), "events", hourAt("2026-11-21T08"), RunOptions{})
	var unsealed *UnsealedError
	if !errors.As(err, &unsealed) || unsealed.Hint() == "" {
		t.Fatalf("run of an unsealed hour: err = %v, want *UnsealedError with a hint", err)
	}
	sum, err := job.RunHour(t.Context(), "events", hourAt("2026-11-21T08"), RunOptions{Force: true})
	if err != nil || sum.Skipped || sum.Written != 3 {
		t.Fatalf("forced run: %+v, %v; want 3 rows written", sum, err)
	}
	// The rest of the hour arrives and the hour seals: the sealed run processes the
	// whole hour, and what the forced run wrote is not written twice.
	l.ingest(recs[4:], ts("2026-11-21T09:10:00Z"))
	sum, err = job.RunHour(t.Context(), "events", hourAt("2026-11-21T08"), RunOptions{})
	if err != nil || sum.Skipped {
		t.Fatalf("sealed run after a forced one: %+v, %v", sum, err)
	}
	var n, distinct int64
	l.query(`SELECT count(*), count(DISTINCT event_id) FROM silver.events`, &n, &distinct)
	if n != 4 || distinct != 4 {
		t.Errorf("silver rows, distinct = %d, %d; want 4, 4", n, distinct)
	}
	var q int64
	l.query(`SELECT count(*) FROM quarantine.events`, &q)
	if q != 2 {
		t.Errorf("quarantine rows = %d, want 2", q)
	}
}

// TestLaterHourFirst runs hour 9 before hour 8, where hour 8 holds an earlier copy of
// an event of hour 9: the hour-8 copy must win, which rewrites the partition.
func TestLaterHourFirst(t *testing.T) {
	l := newTestLake(t)
	at := ts("2026-11-21T08:59:00Z")
	l.ingest([]rec{
		{0, 0, ts("2026-11-21T08:59:30Z"), event("e1", "u1", "click", 0, at)},
		{0, 1, ts("2026-11-21T09:00:30Z"), event("e1", "u1", "click", 0, at)},
		{0, 2, ts("2026-11-21T09:01:00Z"), event("e2", "u2", "click", 0, at)},
	}, ts("2026-11-21T10:10:00Z"))
	job := l.job()
	if _, err := job.RunHour(t.Context(), "events", hourAt("2026-11-21T09"), RunOptions{}); err != nil {
		t.Fatal(err)
	}
	sum, err := job.RunHour(t.Context(), "events", hourAt("2026-11-21T08"), RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []Partition{{"2026-11-21", 8}}; !slices.Equal(sum.Rewritten, want) {
		t.Errorf("rewritten = %v, want %v", sum.Rewritten, want)
	}
	var n, offset int64
	l.query(`SELECT count(*), min("_offset") FILTER (event_id = 'e1') FROM silver.events`, &n, &offset)
	if n != 2 || offset != 0 {
		t.Errorf("rows = %d, e1 from offset %d; want 2 rows, e1 from offset 0", n, offset)
	}
	// Hour 9 again, now that hour 8 is in: its copy of e1 loses and nothing changes.
	before := l.files(Root("events"))
	if _, err := job.RunHour(t.Context(), "events", hourAt("2026-11-21T09"), RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := l.files(Root("events")); !slices.Equal(got, before) {
		t.Errorf("re-run of hour 9 changed files")
	}
}

func TestConcurrentRunsOfOneHour(t *testing.T) {
	l := newTestLake(t)
	l.ingest(hour8(), ts("2026-11-21T09:10:00Z"))
	var wg sync.WaitGroup
	sums := make([]Summary, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() {
			sums[i], errs[i] = l.job().RunHour(t.Context(), "events", hourAt("2026-11-21T08"), RunOptions{})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	var n, distinct, q int64
	l.query(`SELECT count(*), count(DISTINCT event_id), (SELECT count(*) FROM quarantine.events) FROM silver.events`, &n, &distinct, &q)
	if n != 4 || distinct != 4 || q != 2 {
		t.Errorf("after two concurrent runs: silver %d rows, %d distinct, quarantine %d; want 4, 4, 2", n, distinct, q)
	}
	if got := len(l.files(Root("events"))); got != 2 {
		t.Errorf("silver has %d files, want 2 (one per partition, from one run)", got)
	}
}

// TestKilledBetweenCommits stops a run after its quarantine commit, before the Silver
// one (as kill -9 would), then runs the hour again: Silver and the quarantine end up as
// after one uninterrupted run.
func TestKilledBetweenCommits(t *testing.T) {
	l := newTestLake(t)
	l.ingest(hour8(), ts("2026-11-21T09:10:00Z"))
	job := l.job()
	c, err := Compile(*l.p.Table("events"))
	if err != nil {
		t.Fatal(err)
	}
	// The first half of runOnce, by hand.
	r := &run{j: job, c: c, hour: hourAt("2026-11-21T08"), appID: AppID("events", hourAt("2026-11-21T08")), sealed: true, job: "silver",
		inputs: map[string]int64{}}
	r.bronze = lake.NewTable(l.store, layout.TableRoot("events"))
	if r.bsnap, err = r.bronze.Latest(t.Context()); err != nil {
		t.Fatal(err)
	}
	r.txnVersion = r.bsnap.Version
	r.files = hourFiles(r.bsnap, r.hour)
	if r.sess, err = engine.Open(t.Context(), engine.Config{Threads: 2}); err != nil {
		t.Fatal(err)
	}
	if err := r.parse(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := r.quarantine(t.Context()); err != nil {
		t.Fatal(err)
	}
	r.sess.Close()

	sum, err := job.RunHour(t.Context(), "events", hourAt("2026-11-21T08"), RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Skipped || sum.Quarantined != 0 || sum.Written != 4 {
		t.Errorf("run after the kill = %+v, want 4 rows written and nothing quarantined again", sum)
	}
	var n, q int64
	l.query(`SELECT count(DISTINCT event_id), (SELECT count(*) FROM quarantine.events) FROM silver.events`, &n, &q)
	if n != 4 || q != 2 {
		t.Errorf("silver %d events, quarantine %d rows; want 4, 2", n, q)
	}
}
