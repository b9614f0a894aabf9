package bronze

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
	"github.com/twmb/franz-go/pkg/kgo"
)

// A body larger than the line scanner's buffer must still store every line byte
// for byte: lines may not alias a buffer that is reused for the next lines.
func TestHTTPLargeBodyKeepsEveryLineExactly(t *testing.T) {
	var body strings.Builder
	var want []string
	for i := range 3000 {
		line := fmt.Sprintf(`{"i":%d,"pad":"%s"}`, i, strings.Repeat(string(rune('a'+i%26)), 40+i%50))
		want = append(want, line)
		body.WriteString(line + "\n")
	}
	lines, _, _, err := readLines(strings.NewReader(body.String()), 1<<20, 16<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != len(want) {
		t.Fatalf("lines: got %d, want %d", len(lines), len(want))
	}
	for i := range want {
		if string(lines[i]) != want[i] {
			t.Fatalf("line %d: got %q, want %q", i, lines[i], want[i])
		}
	}

	store := mem.New()
	s, stop := runService(t, Config{Store: store, HTTPAddr: "127.0.0.1:0"})
	code, resp := post(t, "http://"+s.Addr()+"/v1/streams/big/events", "", body.String())
	if code != http.StatusOK {
		t.Fatalf("POST: %d %s", code, resp)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	table := lake.NewTable(store, TableRoot("big"))
	snap, err := table.Latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64][]byte{}
	for _, a := range snap.Files() {
		rows, err := ReadRows(t.Context(), table, a)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			got[r.Offset] = r.Payload
		}
	}
	if len(got) != len(want) {
		t.Fatalf("rows: got %d, want %d", len(got), len(want))
	}
	for i, w := range want {
		if !bytes.Equal(got[int64(i)], []byte(w)) {
			t.Fatalf("seq %d: payload %q, want %q", i, got[int64(i)], w)
		}
	}
}

// Payload bytes are kept exactly: invalid UTF-8, NUL, and carriage returns inside
// or at the end of a line (only the line end, "\n" or "\r\n", is removed).
func TestHTTPLinesKeepTheirBytes(t *testing.T) {
	body := "a\xff\xfe\x00b\n\r\n{\"x\":1}\r\r\n c \nlast-without-newline"
	lines, _, _, err := readLines(strings.NewReader(body), 1<<20, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a\xff\xfe\x00b", "{\"x\":1}\r", " c ", "last-without-newline"}
	if len(lines) != len(want) {
		t.Fatalf("lines: got %q, want %q", lines, want)
	}
	for i := range want {
		if string(lines[i]) != want[i] {
			t.Errorf("line %d: got %q, want %q", i, lines[i], want[i])
		}
	}
}

// A line of exactly MaxLineBytes is accepted; one byte more is refused with 413.
func TestHTTPLineLimitIsExact(t *testing.T) {
	const limit = 100 << 10 // above the scanner's initial buffer
	ok := strings.Repeat("x", limit)
	lines, _, _, err := readLines(strings.NewReader(ok+"\r\n"+ok), limit, 1<<20)
	if err != nil || len(lines) != 2 || len(lines[0]) != limit || len(lines[1]) != limit {
		t.Fatalf("lines at the limit: err %v, %d lines", err, len(lines))
	}
	_, _, code, err := readLines(strings.NewReader("a\n"+ok+"y\n"), limit, 1<<20)
	if err == nil || code != http.StatusRequestEntityTooLarge {
		t.Fatalf("line over the limit: code %d err %v, want 413", code, err)
	}
}

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
	table := lake.NewTable(store, TableRoot(stream))
	snap, err := table.Latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]int{}
	for _, a := range snap.Files() {
		rows, err := ReadRows(t.Context(), table, a)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			got[r.Offset]++
		}
	}
	return got, ReadLedger(snap)
}

// When the hour-boundary flush finds a partition lost (here: its rows were stamped
// before the partition's mark, which another replica with a faster clock set) and
// re-seeks it, the records of the poll that triggered the flush were fetched from the
// old position: appending them would commit a ledger that skips the re-seeked records.
func TestHourFlushReseekDoesNotSkipRecords(t *testing.T) {
	store := mem.New()
	var clock atomic.Int64
	t0 := time.Date(2026, 11, 20, 10, 50, 0, 0, time.UTC)
	clock.Store(t0.UnixMicro())
	now := func() time.Time { return time.UnixMicro(clock.Load()).UTC() }

	// No broker answers: the test plays the client's part (assignment, polls) itself.
	cfg, err := Config{Store: store, Brokers: []string{"127.0.0.1:1"}, Topics: map[string]string{"t": "s"},
		FlushInterval: 2 * time.Hour, Now: now, Logger: testLogger(t)}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	k, err := newKafkaIngest(cfg, NewMetrics(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer k.cl.Close()
	k.hour, k.sealAt = HourOf(now()), nextSealPoint(now(), cfg.Grace)
	if _, err := k.seekToLedger(t.Context(), map[string]map[int32]kgo.Offset{"t": {0: kgo.NewOffset()}}); err != nil {
		t.Fatal(err)
	}
	// After this member read the ledger, another replica whose clock ran ahead
	// moved the partition's mark to 11:20.
	table := lake.NewTable(store, TableRoot("s"))
	tx := table.Begin(nil)
	tx.SetMetadata(NewMetadata("", "s", t0))
	tx.SetTxn(KafkaWatermarkAppID("t", 0), t0.Add(30*time.Minute).UnixMilli())
	if _, err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := k.handle(ctx, fetchOf("t", 0, 0, 10)); err != nil {
		t.Fatal(err)
	}
	// Past the hour and the mark: the hour flush refuses 0..9 and re-seeks to 0,
	// while this poll holds 10..19.
	clock.Store(t0.Add(35 * time.Minute).UnixMicro())
	if err := k.handle(ctx, fetchOf("t", 0, 10, 20)); err != nil {
		t.Fatal(err)
	}
	// The re-seek delivers 0..19 again.
	if err := k.handle(ctx, fetchOf("t", 0, 0, 20)); err != nil {
		t.Fatal(err)
	}
	k.mu.Lock()
	err = k.flush(ctx, "shutdown")
	k.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}

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
	k.hour, k.sealAt = HourOf(now()), nextSealPoint(now(), cfg.Grace)
	if _, err := k.seekToLedger(t.Context(), map[string]map[int32]kgo.Offset{"t": {0: kgo.NewOffset()}}); err != nil {
		t.Fatal(err)
	}
	return k
}

// Records polled together with an hour boundary are stamped after the hour flush's
// mark, so their own commit is not refused as late (a clock that moves between the
// poll and the flush, as real clocks do).
func TestRecordsAfterHourFlushAreNotBeforeItsMark(t *testing.T) {
	store := mem.New()
	var clock atomic.Int64
	t0 := time.Date(2026, 11, 20, 10, 59, 0, 0, time.UTC)
	clock.Store(t0.UnixMicro())
	now := func() time.Time { return time.UnixMicro(clock.Add(1000)).UTC() } // 1 ms per reading
	k := newTestIngest(t, store, now)
	ctx := t.Context()
	if err := k.handle(ctx, fetchOf("t", 0, 0, 10)); err != nil {
		t.Fatal(err)
	}
	clock.Store(t0.Add(2 * time.Minute).UnixMicro())
	if err := k.handle(ctx, fetchOf("t", 0, 10, 20)); err != nil {
		t.Fatal(err)
	}
	k.mu.Lock()
	err := k.flush(ctx, "age")
	k.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
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
	var clock atomic.Int64
	t0 := time.Date(2026, 11, 20, 10, 59, 0, 0, time.UTC)
	clock.Store(t0.UnixMicro())
	now := func() time.Time { return time.UnixMicro(clock.Load()).UTC() }

	// Partition 0 is past 11:06: hour 10 is sealed with the default grace.
	table := lake.NewTable(store, TableRoot("s"))
	tx := table.Begin(nil)
	tx.SetMetadata(NewMetadata("", "s", t0))
	tx.SetTxn(KafkaAppID("t", 0), 0)
	tx.SetTxn(KafkaWatermarkAppID("t", 0), t0.Add(7*time.Minute).UnixMilli())
	if _, err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	hour10 := HourOf(t0)
	snap, err := table.Latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !IsSealed(snap, hour10, DefaultGrace) {
		t.Fatal("setup: hour 10 should be sealed")
	}

	k := newTestIngest(t, store, now)
	if _, err := k.seekToLedger(t.Context(), map[string]map[int32]kgo.Offset{"t": {1: kgo.NewOffset()}}); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	// Partition 1's records, stamped 10:59 by a replica whose flush is slow.
	recs := fetchOf("t", 1, 0, 10)
	if err := k.handle(ctx, recs); err != nil {
		t.Fatal(err)
	}
	k.mu.Lock()
	err = k.flush(ctx, "age")
	k.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	// Re-read later, as the client would after the re-seek.
	clock.Store(t0.Add(9 * time.Minute).UnixMicro())
	if err := k.handle(ctx, recs); err != nil {
		t.Fatal(err)
	}
	k.mu.Lock()
	err = k.flush(ctx, "shutdown")
	k.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}

	snap, err = table.Latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var rows int64
	for _, a := range snap.Files() {
		h, _ := fileHour(&a)
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
	k.mu.Lock()
	err := k.flush(ctx, "shutdown")
	k.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	table := lake.NewTable(store, TableRoot("s"))
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
