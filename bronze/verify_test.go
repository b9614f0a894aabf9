package bronze

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake/mem"
)

func TestVerifyFindsGapsAndDuplicates(t *testing.T) {
	now := time.Now()
	tp := TopicPartition{"events", 0}
	setup := func(t *testing.T) (*tableWriter, *writerMaker) {
		store := mem.New()
		w := newTableWriter(store, "events", testLogger(t), NewMetrics(nil))
		pool := &writerMaker{opts: FileOptions{}.withDefaults()}
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

// Verify compares each record's key and headers with the broker's, nullness
// included, as well as its payload.
func TestVerifyComparesKeysAndHeaders(t *testing.T) {
	b := startBroker(t, map[string]int32{"events": 1})
	produced := []nullCase{
		{},
		{key: []byte("k"), headers: []kgo.RecordHeader{{Key: "a"}}},
		{key: []byte{}, headers: []kgo.RecordHeader{{Key: "a", Value: []byte{}}, {Key: "b", Value: []byte("v")}}},
		{key: []byte("k3")},
		{headers: []kgo.RecordHeader{{Key: "a", Value: []byte("1")}}},
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.DefaultProduceTopic("events"))
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range produced {
		rec := &kgo.Record{Key: c.key, Value: fmt.Appendf(nil, `{"i":%d}`, i), Headers: c.headers}
		if err := cl.ProduceSync(t.Context(), rec).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cl.Close()

	tests := []struct {
		name                           string
		change                         func(rows []Row) // what Bronze holds differently
		payloads, keys, headers, probs int64
	}{
		{"as produced", func([]Row) {}, 0, 0, 0, 0},
		{"another key", func(rows []Row) { rows[1].Key = []byte("x") }, 0, 1, 0, 1},
		{"null key stored empty", func(rows []Row) { rows[0].Key = []byte{} }, 0, 1, 0, 1},
		{"empty key stored null", func(rows []Row) { rows[2].Key = nil }, 0, 1, 0, 1},
		{"null header value stored empty", func(rows []Row) { rows[1].Headers[0].Value = []byte{} }, 0, 0, 1, 1},
		{"header dropped", func(rows []Row) { rows[2].Headers = rows[2].Headers[1:] }, 0, 0, 1, 1},
		{"headers added", func(rows []Row) { rows[3].Headers = []Header{{Key: "a"}} }, 0, 0, 1, 1},
		{"header key", func(rows []Row) { rows[4].Headers[0].Key = "b" }, 0, 0, 1, 1},
		{"payload and key", func(rows []Row) { rows[3].Payload, rows[3].Key = []byte("{}"), []byte("k4") }, 1, 1, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Now()
			rows := make([]Row, len(produced))
			for i, c := range produced {
				rows[i] = Row{Payload: fmt.Appendf(nil, `{"i":%d}`, i), Key: c.key, Source: SourceKafka, Topic: "events",
					Offset: int64(i), IngestedAt: now.UnixMicro()}
				for _, h := range c.headers {
					rows[i].Headers = append(rows[i].Headers, Header{Key: h.Key, Value: h.Value})
				}
			}
			tc.change(rows)
			store := mem.New()
			w := newTableWriter(store, "events", testLogger(t), NewMetrics(nil))
			f, err := newDataFile(&writerMaker{opts: FileOptions{}.withDefaults()}, layout.HourOf(now))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(f.Discard)
			for _, r := range rows {
				if err := f.Append(r, r.Headers); err != nil {
					t.Fatal(err)
				}
			}
			if err := f.Finish(); err != nil {
				t.Fatal(err)
			}
			tp := TopicPartition{"events", 0}
			if _, err := w.commitKafka(t.Context(), []partFlush{{TP: tp, Files: []*dataFile{f}, Next: int64(len(rows)),
				MinIngest: now.UnixMicro()}}, now); err != nil {
				t.Fatal(err)
			}

			rep, err := Verify(t.Context(), VerifyConfig{Store: store, Stream: "events", Brokers: []string{b.Addr()}})
			if err != nil {
				t.Fatal(err)
			}
			p := rep.Partitions[0]
			if p.BrokerRecords != int64(len(rows)) || p.Mismatched != tc.payloads || p.KeyMismatches != tc.keys ||
				p.HeaderMismatches != tc.headers || int64(len(rep.Problems)) != tc.probs || rep.OK != (tc.probs == 0) {
				t.Errorf("got %d broker records, %d payload, %d key, %d header mismatches, ok=%v, problems %q; want %d, %d, %d, %d",
					p.BrokerRecords, p.Mismatched, p.KeyMismatches, p.HeaderMismatches, rep.OK, rep.Problems,
					len(rows), tc.payloads, tc.keys, tc.headers)
			}
		})
	}
}
