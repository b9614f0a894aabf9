package bronze

import (
	"sync"
	"testing"
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
)

// fileOf encodes rows with offsets [from, to) of partition tp, ingested at at.
func fileOf(t *testing.T, pool *writerMaker, tp TopicPartition, from, to int64, at time.Time) *dataFile {
	t.Helper()
	f, err := newDataFile(pool, layout.HourOf(at))
	if err != nil {
		t.Fatal(err)
	}
	for o := from; o < to; o++ {
		r := Row{Payload: []byte("p"), Source: SourceKafka, Topic: tp.Topic, Partition: tp.Partition, Offset: o, IngestedAt: at.UnixMicro()}
		if err := f.Append(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Finish(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Discard)
	return f
}

func TestZombieWriterLosesToTheLedger(t *testing.T) {
	store := mem.New()
	m := NewMetrics(nil)
	pool := &writerMaker{opts: FileOptions{}.withDefaults()}
	tp := TopicPartition{"events", 0}
	now := time.Now()
	owner := newTableWriter(store, "events", testLogger(t), m)
	zombie := newTableWriter(store, "events", testLogger(t), m)

	// Both start from an empty ledger and read offsets 0..99; the owner commits first.
	res, err := owner.commitKafka(t.Context(), []partFlush{{TP: tp, Files: []*dataFile{fileOf(t, pool, tp, 0, 100, now)},
		Next: 100, MinIngest: now.UnixMicro()}}, now)
	if err != nil || len(res.Committed) != 1 {
		t.Fatalf("owner: %+v, %v", res, err)
	}
	res, err = zombie.commitKafka(t.Context(), []partFlush{{TP: tp, Files: []*dataFile{fileOf(t, pool, tp, 0, 100, now)},
		Next: 100, MinIngest: now.UnixMicro()}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Lost) != 1 || len(res.Committed) != 0 {
		t.Fatalf("zombie: got %+v, want its partition lost", res)
	}
	// Its idle mark is refused too when it believes the ledger is elsewhere.
	res, err = zombie.commitKafka(t.Context(), []partFlush{{TP: tp, Expect: position{50, true}}}, now)
	if err != nil || len(res.Lost) != 1 {
		t.Fatalf("zombie mark: %+v, %v", res, err)
	}

	snap, err := owner.table.Latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := snap.TxnVersion(layout.KafkaAppID("events", 0)); v != 100 {
		t.Errorf("ledger: got %d, want 100", v)
	}
	var rows int64
	for _, a := range snap.Files() {
		s, _, _ := a.ParseStats()
		rows += s.NumRecords
	}
	if rows != 100 {
		t.Errorf("rows: got %d, want 100", rows)
	}
}

func TestConcurrentWritersOfOnePartitionCommitOnce(t *testing.T) {
	store := mem.New()
	m := NewMetrics(nil)
	tp := TopicPartition{"events", 3}
	now := time.Now()
	// Create the table first, so both writers race on a version, not on creation.
	w0 := newTableWriter(store, "events", testLogger(t), m)
	pool0 := &writerMaker{opts: FileOptions{}.withDefaults()}
	if _, err := w0.commitKafka(t.Context(), []partFlush{{TP: tp, Files: []*dataFile{fileOf(t, pool0, tp, 0, 10, now)}, Next: 10, MinIngest: now.UnixMicro()}}, now); err != nil {
		t.Fatal(err)
	}
	const writers = 6
	results := make([]flushResult, writers)
	var wg sync.WaitGroup
	for i := range writers {
		pool := &writerMaker{opts: FileOptions{}.withDefaults()}
		f := fileOf(t, pool, tp, 10, 60, now)
		w := newTableWriter(store, "events", testLogger(t), m)
		wg.Go(func() {
			res, err := w.commitKafka(t.Context(), []partFlush{{TP: tp, Files: []*dataFile{f}, Expect: position{10, true}, Next: 60, MinIngest: now.UnixMicro()}}, now)
			if err != nil {
				t.Error(err)
			}
			results[i] = res
		})
	}
	wg.Wait()
	won := 0
	for _, r := range results {
		won += len(r.Committed)
	}
	if won != 1 {
		t.Fatalf("writers that committed offsets 10..59: got %d, want exactly 1", won)
	}
	rep, err := Verify(t.Context(), VerifyConfig{Store: store, Stream: "events"})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.KafkaRows != 60 {
		t.Fatalf("verify: ok=%v rows=%d problems=%v", rep.OK, rep.KafkaRows, rep.Problems)
	}
}

func TestRowsBeforeTheMarkAreRefused(t *testing.T) {
	store := mem.New()
	m := NewMetrics(nil)
	pool := &writerMaker{opts: FileOptions{}.withDefaults()}
	tp, other := TopicPartition{"events", 0}, TopicPartition{"events", 1}
	t0 := time.Date(2026, 11, 21, 9, 59, 0, 0, time.UTC)
	w := newTableWriter(store, "events", testLogger(t), m)
	// Partition 1's own mark is at 09:58. (Without a mark of its own, its 09:59 rows
	// would be refused too: hour 09 is sealed once partition 0 passes 10:05.)
	if _, err := w.commitKafka(t.Context(), []partFlush{{TP: other}}, t0.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	// Another writer, owning partition 0 now, advanced its mark to 10:06.
	if _, err := w.commitKafka(t.Context(), []partFlush{{TP: tp}}, t0.Add(7*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// A late commit of rows ingested at 09:59 for partition 0 must not land in an
	// hour that the mark declared complete; partition 1's rows are fine.
	res, err := w.commitKafka(t.Context(), []partFlush{
		{TP: tp, Files: []*dataFile{fileOf(t, pool, tp, 0, 5, t0)}, Next: 5, MinIngest: t0.UnixMicro()},
		{TP: other, Files: []*dataFile{fileOf(t, pool, other, 0, 5, t0)}, Next: 5, MinIngest: t0.UnixMicro()},
	}, t0.Add(8*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Lost) != 1 || res.Lost[0] != tp || len(res.Committed) != 1 || res.Committed[0] != other {
		t.Fatalf("got committed %v lost %v, want %v committed and %v lost", res.Committed, res.Lost, other, tp)
	}
}

func TestSealing(t *testing.T) {
	store := mem.New()
	w := newTableWriter(store, "events", testLogger(t), NewMetrics(nil))
	h := layout.HourOf(time.Date(2026, 11, 21, 8, 30, 0, 0, time.UTC))
	grace := 5 * time.Minute
	p0, p1 := TopicPartition{"events", 0}, TopicPartition{"events", 1}
	commitMarks := func(at time.Time, tps ...TopicPartition) *lake.Snapshot {
		t.Helper()
		var parts []partFlush
		for _, tp := range tps {
			parts = append(parts, partFlush{TP: tp})
		}
		if _, err := w.commitKafka(t.Context(), parts, at); err != nil {
			t.Fatal(err)
		}
		snap, err := w.table.Latest(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return snap
	}
	steps := []struct {
		at     time.Time
		parts  []TopicPartition
		sealed bool
	}{
		{h.End(), []TopicPartition{p0, p1}, false},                       // hour over, grace not passed
		{h.End().Add(grace + time.Second), []TopicPartition{p0}, false},  // p1 still behind
		{h.End().Add(grace + 2*time.Second), []TopicPartition{p1}, true}, // both past H+grace
		{h.End().Add(time.Minute), []TopicPartition{p0}, true},           // marks never go back
	}
	for i, s := range steps {
		snap := commitMarks(s.at, s.parts...)
		if got := layout.IsSealed(snap, h, grace); got != s.sealed {
			t.Errorf("step %d: IsSealed(%s) = %v, want %v (marks %v)", i, h, got, s.sealed, layout.Marks(snap))
		}
		if layout.IsSealed(snap, layout.HourOf(h.End()), grace) {
			t.Errorf("step %d: the next hour is sealed too early", i)
		}
	}
}
