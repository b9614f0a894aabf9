package bronze

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
	"github.com/twmb/franz-go/pkg/kgo"
)

// fetchOf builds one poll's records of topic/partition, offsets [from, to).
func fetchOf(topic string, partition int32, from, to int64) kgo.Fetches {
	var recs []*kgo.Record
	for o := from; o < to; o++ {
		recs = append(recs, &kgo.Record{Topic: topic, Partition: partition, Offset: o, Value: fmt.Appendf(nil, `{"o":%d}`, o)})
	}
	return kgo.Fetches{{Topics: []kgo.FetchTopic{{Topic: topic, Partitions: []kgo.FetchPartition{
		{Partition: partition, Records: recs, HighWatermark: to},
	}}}}}
}

// committedOffsets returns the Kafka offsets of every row of the table and its ledger.
func committedOffsets(t *testing.T, store lake.Store, stream string) (map[int64]int, Ledger) {
	t.Helper()
	rows, ledger := latestRows(t, store, stream)
	got := map[int64]int{}
	for _, r := range rows {
		got[r.Offset]++
	}
	return got, ledger
}

// newTestIngest returns a Kafka ingest whose client reaches no broker: the test
// plays the client's part (assignment, polls) itself, on the clock now.
func newTestIngest(t *testing.T, store lake.Store, now func() time.Time) *kafkaIngest {
	t.Helper()
	cfg, err := Config{Store: store, Brokers: []string{"127.0.0.1:1"}, Topics: map[string]string{"t": "s"},
		FlushInterval: 2 * time.Hour, Now: now, Logger: testLogger(t)}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	k, err := newKafkaIngest(cfg, NewMetrics(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.cl.Close)
	k.hour, k.sealAt = layout.HourOf(now()), nextSealPoint(now(), cfg.Graces.All()...)
	if _, err := k.seekToLedger(t.Context(), map[string]map[int32]kgo.Offset{"t": {0: kgo.NewOffset()}}); err != nil {
		t.Fatal(err)
	}
	return k
}

// testClock is the clock of tests that move ingest across hours by hand. With a tick,
// each reading advances it, as a real clock moves between two readings.
type testClock struct {
	us   atomic.Int64
	tick time.Duration
}

func newTestClock(at time.Time, tick time.Duration) *testClock {
	c := &testClock{tick: tick}
	c.Set(at)
	return c
}

func (c *testClock) Now() time.Time   { return time.UnixMicro(c.us.Add(c.tick.Microseconds())).UTC() }
func (c *testClock) Set(at time.Time) { c.us.Store(at.UnixMicro()) }

// flushNow flushes every open file of k, as its flush loop would for reason.
func flushNow(t *testing.T, k *kafkaIngest, reason string) {
	t.Helper()
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.flush(t.Context(), reason); err != nil {
		t.Fatalf("flush (%s): %v", reason, err)
	}
}

// seedTable creates stream's Bronze table at time at with the ledger entries txns,
// as another replica's commit would have.
func seedTable(t *testing.T, store lake.Store, stream string, at time.Time, txns map[string]int64) *lake.Table {
	t.Helper()
	table := lake.NewTable(store, layout.TableRoot(stream))
	tx := table.Begin(nil)
	tx.SetMetadata(NewMetadata("", stream, at))
	for id, v := range txns {
		tx.SetTxn(id, v)
	}
	if _, err := tx.Commit(t.Context()); err != nil {
		t.Fatalf("seed %s: %v", layout.TableRoot(stream), err)
	}
	return table
}

// When the hour-boundary flush finds a partition lost (here: its rows were stamped
// before the partition's mark, which another replica with a faster clock set) and
// re-seeks it, the records of the poll that triggered the flush were fetched from the
// old position: appending them would commit a ledger that skips the re-seeked records.
func TestHourFlushReseekDoesNotSkipRecords(t *testing.T) {
	store := mem.New()
	t0 := time.Date(2026, 11, 20, 10, 50, 0, 0, time.UTC)
	clock := newTestClock(t0, 0)

	k := newTestIngest(t, store, clock.Now)
	// After this member read the ledger, another replica whose clock ran ahead
	// moved the partition's mark to 11:20.
	seedTable(t, store, "s", t0, map[string]int64{layout.KafkaWatermarkAppID("t", 0): t0.Add(30 * time.Minute).UnixMilli()})
	ctx := t.Context()
	if err := k.handle(ctx, fetchOf("t", 0, 0, 10)); err != nil {
		t.Fatal(err)
	}
	// Past the hour and the mark: the hour flush refuses 0..9 and re-seeks to 0,
	// while this poll holds 10..19.
	clock.Set(t0.Add(35 * time.Minute))
	if err := k.handle(ctx, fetchOf("t", 0, 10, 20)); err != nil {
		t.Fatal(err)
	}
	// The re-seek delivers 0..19 again.
	if err := k.handle(ctx, fetchOf("t", 0, 0, 20)); err != nil {
		t.Fatal(err)
	}
	flushNow(t, k, "shutdown")

	got, ledger := committedOffsets(t, store, "s")
	next := ledger.Next[TopicPartition{"t", 0}]
	if next != 20 {
		t.Errorf("ledger: got %d, want 20", next)
	}
	for o := int64(0); o < next; o++ {
		if got[o] != 1 {
			t.Errorf("offset %d below the ledger's %d: in Bronze %d times, want once", o, next, got[o])
		}
	}
}

// Records polled together with an hour boundary are stamped after the hour flush's
// mark, so their own commit is not refused as late (a clock that moves between the
// poll and the flush, as real clocks do).
func TestRecordsAfterHourFlushAreNotBeforeItsMark(t *testing.T) {
	store := mem.New()
	t0 := time.Date(2026, 11, 20, 10, 59, 0, 0, time.UTC)
	clock := newTestClock(t0, time.Millisecond)
	k := newTestIngest(t, store, clock.Now)
	ctx := t.Context()
	if err := k.handle(ctx, fetchOf("t", 0, 0, 10)); err != nil {
		t.Fatal(err)
	}
	clock.Set(t0.Add(2 * time.Minute))
	if err := k.handle(ctx, fetchOf("t", 0, 10, 20)); err != nil {
		t.Fatal(err)
	}
	flushNow(t, k, "age")
	got, ledger := committedOffsets(t, store, "s")
	if next := ledger.Next[TopicPartition{"t", 0}]; next != 20 || len(got) != 20 {
		t.Errorf("after the flush: ledger %d and %d offsets, want 20 and 20", next, len(got))
	}
}

// A partition that has no sealing mark yet (new, or never assigned before) cannot
// commit rows into an hour that the marks of the other partitions already sealed:
// IsSealed only sees the marks that exist.
func TestNewPartitionCannotWriteIntoASealedHour(t *testing.T) {
	store := mem.New()
	t0 := time.Date(2026, 11, 20, 10, 59, 0, 0, time.UTC)
	clock := newTestClock(t0, 0)

	// Partition 0 is past 11:06: hour 10 is sealed with the default grace.
	table := seedTable(t, store, "s", t0, map[string]int64{
		layout.KafkaAppID("t", 0): 0, layout.KafkaWatermarkAppID("t", 0): t0.Add(7 * time.Minute).UnixMilli()})
	hour10 := layout.HourOf(t0)
	snap, err := table.Latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !layout.IsSealed(snap, hour10, layout.DefaultGrace) {
		t.Fatal("setup: hour 10 should be sealed")
	}

	k := newTestIngest(t, store, clock.Now)
	if _, err := k.seekToLedger(t.Context(), map[string]map[int32]kgo.Offset{"t": {1: kgo.NewOffset()}}); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	// Partition 1's records, stamped 10:59 by a replica whose flush is slow.
	recs := fetchOf("t", 1, 0, 10)
	if err := k.handle(ctx, recs); err != nil {
		t.Fatal(err)
	}
	flushNow(t, k, "age")
	// Re-read later, as the client would after the re-seek.
	clock.Set(t0.Add(9 * time.Minute))
	if err := k.handle(ctx, recs); err != nil {
		t.Fatal(err)
	}
	flushNow(t, k, "shutdown")

	snap, err = table.Latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var rows int64
	for _, a := range snap.Files() {
		h, _ := layout.FileHour(&a)
		st, _, _ := a.ParseStats()
		rows += st.NumRecords
		if h == hour10 {
			t.Errorf("%s: %d rows committed into sealed hour %s", a.Path, st.NumRecords, hour10)
		}
	}
	if next := ReadLedger(snap).Next[TopicPartition{"t", 1}]; next != 10 || rows != 10 {
		t.Errorf("partition 1: ledger %d with %d rows, want 10 and 10", next, rows)
	}
}

// sourceTsRow reads source_timestamp as a pointer, so that a null is told apart
// from a zero.
type sourceTsRow struct {
	Offset          int64  `parquet:"offset"`
	SourceTimestamp *int64 `parquet:"source_timestamp,optional"`
}

// A Kafka record without a timestamp (-1, "no timestamp" in the protocol) is stored
// with a null source_timestamp, not as one millisecond before the epoch.
func TestKafkaRecordWithoutTimestampHasNullSourceTimestamp(t *testing.T) {
	store := mem.New()
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	k := newTestIngest(t, store, func() time.Time { return t0 })
	fetches := fetchOf("t", 0, 0, 4)
	stamped := time.UnixMilli(1_700_000_000_000)
	fetches.EachRecord(func(r *kgo.Record) {
		r.Timestamp = time.UnixMilli(-1) // what franz-go decodes from a -1 timestamp
		if r.Offset == 3 {
			r.Timestamp = stamped
		}
	})
	ctx := t.Context()
	if err := k.handle(ctx, fetches); err != nil {
		t.Fatal(err)
	}
	flushNow(t, k, "shutdown")
	table := lake.NewTable(store, layout.TableRoot("s"))
	snap, err := table.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var rows int
	for _, a := range snap.Files() {
		got, err := readFile[sourceTsRow](ctx, table, a)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range got {
			rows++
			switch {
			case r.Offset == 3 && (r.SourceTimestamp == nil || *r.SourceTimestamp != stamped.UnixMicro()):
				t.Errorf("offset 3: source_timestamp %v, want %d", r.SourceTimestamp, stamped.UnixMicro())
			case r.Offset != 3 && r.SourceTimestamp != nil:
				t.Errorf("offset %d without a timestamp: source_timestamp %d, want null", r.Offset, *r.SourceTimestamp)
			}
		}
		st, _, err := a.ParseStats()
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := st.NullCount["source_timestamp"].(float64); n != 3 {
			t.Errorf("stats: source_timestamp nullCount %v, want 3", st.NullCount["source_timestamp"])
		}
	}
	if rows != 4 {
		t.Errorf("rows: got %d, want 4", rows)
	}
}
