package bronze

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
)

// A Bronze table forgets HTTP producers idle for longer than ProducerRetention, in
// its snapshots and its checkpoints, and never the offset ledger, first offsets,
// watermarks or the HTTP sequence, however long they go without a commit.
func TestProducerEntriesExpireLedgerStays(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	now := t0
	store := mem.New()
	tbl := lake.NewTable(store, layout.TableRoot("s"), lake.WithClock(func() time.Time { return now }))
	tp := TopicPartition{"events", 0}
	commit := func(txns map[string]int64) {
		t.Helper()
		var snap *lake.Snapshot
		if v, err := tbl.Latest(t.Context()); err == nil {
			snap = v
		}
		tx := tbl.Begin(snap)
		if snap == nil {
			tx.SetMetadata(NewMetadata("", "s", now))
		}
		for id, v := range txns {
			tx.SetTxn(id, v)
		}
		if _, err := tx.Commit(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	// v0 at t0: the whole ledger once, and a producer.
	commit(map[string]int64{
		layout.KafkaAppID(tp.Topic, tp.Partition):          100,
		KafkaFirstAppID(tp.Topic, tp.Partition):            0,
		layout.KafkaWatermarkAppID(tp.Topic, tp.Partition): t0.UnixMilli(),
		layout.HTTPAppID("s"):                              40,
		layout.HTTPWatermarkAppID("s"):                     t0.UnixMilli(),
		HTTPProducerAppID("s", "gen-1"):                    7,
	})
	// v1..v10, after the retention: commits of another producer only (a checkpoint
	// is written at v10).
	now = t0.Add(ProducerRetention + time.Hour)
	for seq := int64(1); seq <= 10; seq++ {
		commit(map[string]int64{HTTPProducerAppID("s", "gen-2"): seq})
	}

	wantLedger := func(where string, snap *lake.Snapshot) {
		t.Helper()
		l := ReadLedger(snap)
		if l.Next[tp] != 100 || l.First[tp] != 0 || len(l.First) != 1 || l.HTTPNext != 40 || len(l.Marks) != 2 {
			t.Errorf("%s: ledger lost entries: %+v", where, l)
		}
		if got := fmt.Sprint(l.Producers); got != "map[http-producer/s/gen-2:10]" {
			t.Errorf("%s: producers = %s, want only gen-2 at 10", where, got)
		}
	}
	snap, err := tbl.Latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantLedger("snapshot v10", snap)

	// The checkpoint alone (commits v0..v10 deleted) holds the same ledger.
	for v := range 11 {
		if err := store.Delete(t.Context(), fmt.Sprintf("%s/_delta_log/%020d.json", layout.TableRoot("s"), v)); err != nil {
			t.Fatal(err)
		}
	}
	snap, err = lake.NewTable(store, layout.TableRoot("s")).Latest(t.Context())
	if err != nil {
		t.Fatalf("load from checkpoint v10: %v", err)
	}
	wantLedger("checkpoint v10", snap)
}

// A writer refuses a Bronze table whose txn retention could expire anything but
// producer entries.
func TestWriterRefusesLedgerExpiry(t *testing.T) {
	for _, tc := range []struct {
		name string
		conf map[string]string
		want string
	}{
		{"delta retention", map[string]string{lake.PropSetTransactionRetention: "interval 30 days"},
			lake.PropSetTransactionRetention},
		{"wide prefix", map[string]string{lake.PropTxnRetentionPrefixes: "http-producer/,kafka/",
			lake.PropTxnRetentionDuration: "interval 7 days"}, `"kafka/"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := mem.New()
			md := NewMetadata("", "s", time.Now())
			md.Configuration = tc.conf
			tx := lake.NewTable(store, layout.TableRoot("s")).Begin(nil)
			tx.SetMetadata(md)
			if _, err := tx.Commit(t.Context()); err != nil {
				t.Fatal(err)
			}
			w := newTableWriter(store, "s", testLogger(t), NewMetrics(nil))
			_, err := w.latest(t.Context())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("latest: err = %v, want one naming %s", err, tc.want)
			}
		})
	}
	// Its own metadata passes.
	r, err := lake.ParseTxnRetention(NewMetadata("", "s", time.Now()).Configuration)
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := r.Expires(HTTPProducerAppID("s", "p")); !ok || d != ProducerRetention {
		t.Errorf("producer entries expire after %v, %v; want %v", d, ok, ProducerRetention)
	}
	for _, id := range []string{layout.KafkaAppID("t", 0), KafkaFirstAppID("t", 0), layout.KafkaWatermarkAppID("t", 0),
		layout.HTTPAppID("s"), layout.HTTPWatermarkAppID("s")} {
		if d, ok := r.Expires(id); ok {
			t.Errorf("%s expires after %v; want never", id, d)
		}
	}
}
