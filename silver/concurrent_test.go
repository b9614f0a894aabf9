package silver

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestConcurrentHoursShareLatePartition runs three ingest hours at once whose events
// all belong to event hour 07 (late data), with copies of the same events in each:
// the runs conflict on that partition, and whichever order their commits land in,
// Silver ends with every event once, each from its earliest copy.
func TestConcurrentHoursShareLatePartition(t *testing.T) {
	l := newTestLake(t)
	at := ts("2026-11-21T07:30:00Z")
	var recs []rec
	for h := range 3 {
		ingested := ts("2026-11-21T08:00:00Z").Add(time.Duration(h) * time.Hour)
		for i := range 4 {
			// e0 and e1 come in every hour; the others only in one.
			id := fmt.Sprintf("e%d", i)
			if i >= 2 {
				id = fmt.Sprintf("h%d-e%d", h, i)
			}
			recs = append(recs, rec{int32(i % 3), int64(h*10 + i), ingested.Add(time.Duration(i) * time.Minute), event(id, "u1", "click", 0, at)})
		}
	}
	l.ingest(recs, ts("2026-11-21T11:10:00Z"))
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for h := range 3 {
		wg.Go(func() {
			hour := hourAt(fmt.Sprintf("2026-11-21T%02d", 8+h))
			_, errs[h] = l.job().RunHour(t.Context(), "events", hour, RunOptions{})
		})
	}
	wg.Wait()
	for h, err := range errs {
		if err != nil {
			t.Fatalf("hour %d: %v", 8+h, err)
		}
	}
	var n, distinct, firstCopies int64
	l.query(`SELECT count(*), count(DISTINCT event_id), count(*) FILTER (event_id IN ('e0', 'e1') AND hour(_ingested_at) = 8) FROM silver.events`,
		&n, &distinct, &firstCopies)
	if n != 8 || distinct != 8 || firstCopies != 2 {
		t.Errorf("silver: %d rows, %d distinct, %d of e0/e1 from hour 8; want 8, 8, 2", n, distinct, firstCopies)
	}
}

// crashAt returns a job that stops, as a kill would, at the named hook point.
func (l *testLake) crashAt(point string) *Job {
	j := l.job()
	j.cfg.Hook = func(p string) {
		if p == point {
			panic("crash at " + p)
		}
	}
	return j
}

func runCrashing(t *testing.T, j *Job, hour string) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Fatalf("run of %s did not reach its crash point", hour)
		}
	}()
	j.RunHour(t.Context(), "events", hourAt(hour), RunOptions{})
}

// TestCrashesWhileBronzeMovesOn kills a run at each point between its commits while
// Bronze gets new commits in between (other hours, so the txn versions differ), and
// runs the hour again: quarantine and Silver end exactly as after one clean run.
func TestCrashesWhileBronzeMovesOn(t *testing.T) {
	for _, point := range []string{HookParsed, HookQuarantineCommitted, HookFilesWritten} {
		t.Run(point, func(t *testing.T) {
			l := newTestLake(t)
			l.ingest(hour8(), ts("2026-11-21T09:10:00Z"))
			runCrashing(t, l.crashAt(point), "2026-11-21T08")
			at := ts("2026-11-21T09:30:00Z")
			l.ingest([]rec{{0, 100, at, event("e9", "u1", "click", 0, at)}}, ts("2026-11-21T10:10:00Z"))
			if _, err := l.job().RunHour(t.Context(), "events", hourAt("2026-11-21T08"), RunOptions{}); err != nil {
				t.Fatal(err)
			}
			var n, distinct, q, qDistinct int64
			l.query(`SELECT count(*), count(DISTINCT event_id), (SELECT count(*) FROM quarantine.events),
  (SELECT count(DISTINCT ("partition", "offset")) FROM quarantine.events) FROM silver.events`, &n, &distinct, &q, &qDistinct)
			if n != 4 || distinct != 4 || q != 2 || qDistinct != 2 {
				t.Errorf("silver %d rows (%d distinct), quarantine %d rows (%d distinct); want 4 (4), 2 (2)", n, distinct, q, qDistinct)
			}
		})
	}
}
