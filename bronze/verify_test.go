package bronze

import (
	"testing"
	"time"

	"github.com/lakectl/lakectl/lake/mem"
)

func TestVerifyFindsGapsAndDuplicates(t *testing.T) {
	now := time.Now()
	tp := TopicPartition{"events", 0}
	setup := func(t *testing.T) (*tableWriter, *writerPool) {
		store := mem.New()
		w := newTableWriter(store, "events", testLogger(t), NewMetrics(nil))
		pool := &writerPool{opts: FileOptions{}.withDefaults()}
		for _, r := range [][2]int64{{0, 50}, {50, 100}} {
			exp := position{r[0], r[0] > 0}
			if _, err := w.commitKafka(t.Context(), []partFlush{{TP: tp, Files: []*dataFile{fileOf(t, pool, tp, r[0], r[1], now)},
				Expect: exp, Next: r[1], MinIngest: now.UnixMicro()}}, now); err != nil {
				t.Fatal(err)
			}
		}
		return w, pool
	}
	verify := func(t *testing.T, w *tableWriter) VerifyReport {
		rep, err := Verify(t.Context(), VerifyConfig{Store: w.table.Store(), Stream: "events"})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}

	t.Run("intact", func(t *testing.T) {
		w, _ := setup(t)
		if rep := verify(t, w); !rep.OK || rep.KafkaRows != 100 {
			t.Fatalf("got ok=%v rows=%d problems=%v", rep.OK, rep.KafkaRows, rep.Problems)
		}
	})
	t.Run("gap", func(t *testing.T) {
		w, _ := setup(t)
		snap, err := w.table.Latest(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		tx := w.table.Begin(snap)
		tx.Remove(snap.Files()[0].RemoveAt(now))
		if _, err := tx.Commit(t.Context()); err != nil {
			t.Fatal(err)
		}
		rep := verify(t, w)
		if rep.OK || rep.Partitions[0].Missing != 50 {
			t.Fatalf("got ok=%v missing=%d, want 50 missing", rep.OK, rep.Partitions[0].Missing)
		}
	})
	t.Run("duplicate", func(t *testing.T) {
		w, pool := setup(t)
		snap, err := w.table.Latest(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		// A writer that ignored the ledger appends offsets 90..109 again.
		f := fileOf(t, pool, tp, 90, 110, now)
		if err := w.upload(t.Context(), []*dataFile{f}); err != nil {
			t.Fatal(err)
		}
		tx := w.table.Begin(snap)
		tx.Add(f.add(now))
		if _, err := tx.Commit(t.Context()); err != nil {
			t.Fatal(err)
		}
		rep := verify(t, w)
		p := rep.Partitions[0]
		if rep.OK || p.Duplicates != 10 || p.Outside != 10 {
			t.Fatalf("got ok=%v duplicates=%d outside=%d, want 10 and 10", rep.OK, p.Duplicates, p.Outside)
		}
	})
}
