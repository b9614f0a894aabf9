package bronze

import (
	"testing"
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake/mem"
)

// After a handover to a replica whose clock is behind the previous owner's, the new
// owner stamps its rows after the partition's mark, so its commits land instead of
// being refused until its clock catches up. The sealing guarantee still holds: when
// the mark moves past an hour after the new owner read it, the rows it stamped in
// that hour are refused, re-read and stamped after the new mark.
func TestSkewedNewOwnerStampsAfterThePreviousMark(t *testing.T) {
	store := mem.New()
	t0 := time.Date(2026, 11, 20, 10, 50, 0, 0, time.UTC)
	clock := newTestClock(t0, 0)
	tp := TopicPartition{"t", 0}

	// The previous owner's clock ran 30 minutes ahead: the mark is at 11:20.
	prevMark := t0.Add(30 * time.Minute)
	table := seedTable(t, store, "s", t0, map[string]int64{layout.KafkaAppID("t", 0): 0, layout.KafkaWatermarkAppID("t", 0): prevMark.UnixMilli()})

	k := newTestIngest(t, store, clock.Now)
	ctx := t.Context()
	if err := k.handle(ctx, fetchOf("t", 0, 0, 10)); err != nil {
		t.Fatal(err)
	}
	flushNow(t, k, "age")
	got, ledger := committedOffsets(t, store, "s")
	if next := ledger.Next[tp]; next != 10 || len(got) != 10 {
		t.Fatalf("first flush of the skewed owner: ledger %d with %d offsets, want 10 and 10", next, len(got))
	}

	// The old owner, a zombie now, moves the mark to 12:10: hour 11 is sealed.
	snap, err := table.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	zombieMark := t0.Add(80 * time.Minute)
	tx := table.Begin(snap)
	tx.SetTxn(layout.KafkaWatermarkAppID("t", 0), zombieMark.UnixMilli())
	if _, err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	hour11 := layout.HourOf(prevMark)
	if snap, err = table.Latest(ctx); err != nil || !layout.IsSealed(snap, hour11, layout.DefaultGrace) {
		t.Fatalf("setup: hour %s should be sealed (err %v)", hour11, err)
	}
	sealedAt := snap.Version

	// The new owner stamped these before it saw the zombie's mark: refused, re-seeked.
	if err := k.handle(ctx, fetchOf("t", 0, 10, 20)); err != nil {
		t.Fatal(err)
	}
	flushNow(t, k, "age")
	if err := k.handle(ctx, fetchOf("t", 0, 10, 20)); err != nil {
		t.Fatal(err)
	}
	flushNow(t, k, "age")

	snap, err = table.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if next := ReadLedger(snap).Next[tp]; next != 20 {
		t.Errorf("ledger: got %d, want 20", next)
	}
	seen := map[int64]int{}
	for _, a := range snap.Files() {
		rows, err := ReadRows(ctx, table, a)
		if err != nil {
			t.Fatal(err)
		}
		h, _ := layout.FileHour(&a)
		for _, r := range rows {
			seen[r.Offset]++
			at := time.UnixMicro(r.IngestedAt).UTC()
			if r.Offset < 10 && !at.After(prevMark) {
				t.Errorf("offset %d: ingested_at %s, want after the previous owner's mark %s", r.Offset, at, prevMark)
			}
			if r.Offset >= 10 && !at.After(zombieMark) {
				t.Errorf("offset %d: ingested_at %s, want after the mark %s that sealed hour %s", r.Offset, at, zombieMark, hour11)
			}
			if layout.HourOf(at) != h {
				t.Errorf("offset %d: ingested_at %s in a file of hour %s", r.Offset, at, h)
			}
		}
	}
	for o := int64(0); o < 20; o++ {
		if seen[o] != 1 {
			t.Errorf("offset %d: in Bronze %d times, want once", o, seen[o])
		}
	}
	// Nothing was added to hour 11 after it was sealed.
	before, err := table.At(ctx, sealedAt)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(hourFilesOf(snap, hour11)), len(hourFilesOf(before, hour11)); got != want {
		t.Errorf("files of sealed hour %s: got %d, want the %d it held when sealed", hour11, got, want)
	}
}
