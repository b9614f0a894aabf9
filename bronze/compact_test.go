package bronze

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
)

// sealedTable is a Bronze table whose hour `hour` is sealed and holds many small
// files: per Kafka partition (of two topics) several flushes, plus HTTP batches.
type sealedTable struct {
	store lake.Store
	w     *tableWriter
	pool  *writerMaker
	hour  layout.Hour
	next  map[TopicPartition]int64
	seq   int64 // next HTTP sequence number
}

var compactTPs = []TopicPartition{{"events", 0}, {"events", 1}, {"more-events", 0}}

// richFile encodes rows [from, to) of source tp (HTTP when tp.Partition is -1)
// with keys that are absent, empty or set, headers, and source timestamps.
func richFile(t *testing.T, pool *writerMaker, tp TopicPartition, from, to int64, at time.Time) *dataFile {
	t.Helper()
	f, err := newDataFile(pool, layout.HourOf(at))
	if err != nil {
		t.Fatal(err)
	}
	for o := from; o < to; o++ {
		r := Row{Payload: fmt.Appendf(nil, `{"tp":%q,"o":%d}`, tp, o), Source: SourceKafka, Topic: tp.Topic,
			Partition: tp.Partition, Offset: o, IngestedAt: at.UnixMicro() + o}
		if tp.Partition < 0 {
			r.Source = SourceHTTP
		}
		switch o % 3 {
		case 0:
			r.Key = fmt.Appendf(nil, "k%d", o%7)
		case 1:
			r.Key = []byte{} // present but empty: must stay non-null
		}
		var hdrs []Header
		if o%2 == 0 {
			hdrs = []Header{{Key: "trace", Value: fmt.Appendf(nil, "t%d", o)}, {Key: "flag"}}
			r.SourceTimestamp = at.Add(-time.Minute).UnixMicro() + o
		}
		if err := f.Append(r, hdrs); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Finish(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Discard)
	return f
}

func newSealedTable(t *testing.T, store lake.Store) *sealedTable {
	t.Helper()
	st := &sealedTable{
		store: store,
		w:     newTableWriter(store, "events", testLogger(t), NewMetrics(nil)),
		pool:  &writerMaker{opts: FileOptions{}.withDefaults()},
		next:  map[TopicPartition]int64{},
	}
	past := time.Now().Add(-3 * time.Hour)
	st.hour = layout.HourOf(past)
	base := st.hour.Time().Add(10 * time.Minute)
	for flush := range 4 {
		at := base.Add(time.Duration(flush) * time.Minute)
		for _, tp := range compactTPs {
			st.commitKafka(t, tp, 20+int64(flush)*7, at)
		}
		st.commitHTTP(t, 15, at)
	}
	// Every mark moves to now: the hour is sealed.
	st.advanceMarks(t, time.Now())
	return st
}

func (st *sealedTable) commitKafka(t *testing.T, tp TopicPartition, n int64, at time.Time) {
	t.Helper()
	from := st.next[tp]
	f := richFile(t, st.pool, tp, from, from+n, at)
	res, err := st.w.commitKafka(t.Context(), []partFlush{{TP: tp, Files: []*dataFile{f}, Expect: position{from, from > 0},
		Next: from + n, MinIngest: at.UnixMicro()}}, at)
	if err != nil || len(res.Committed) != 1 {
		t.Fatalf("commit %s %d..%d: %+v, %v", tp, from, from+n, res, err)
	}
	st.next[tp] = from + n
}

func (st *sealedTable) commitHTTP(t *testing.T, n int64, at time.Time) {
	t.Helper()
	f := richFile(t, st.pool, TopicPartition{Partition: -1}, st.seq, st.seq+n, at)
	if err := st.w.upload(t.Context(), []*dataFile{f}); err != nil {
		t.Fatal(err)
	}
	snap, err := st.w.latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	tx := st.w.table.Begin(snap)
	tx.Add(f.add(at))
	tx.SetTxn(layout.HTTPAppID("events"), st.seq+n)
	tx.SetTxn(layout.HTTPWatermarkAppID("events"), at.UnixMilli())
	if _, err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	st.seq += n
}

func (st *sealedTable) advanceMarks(t *testing.T, at time.Time) {
	t.Helper()
	var parts []partFlush
	for _, tp := range compactTPs {
		parts = append(parts, partFlush{TP: tp, Expect: position{st.next[tp], true}})
	}
	if _, err := st.w.commitKafka(t.Context(), parts, at); err != nil {
		t.Fatal(err)
	}
	snap, err := st.w.latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	tx := st.w.table.Begin(snap)
	tx.SetTxn(layout.HTTPWatermarkAppID("events"), at.UnixMilli())
	if _, err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func (st *sealedTable) snap(t *testing.T) *lake.Snapshot {
	t.Helper()
	snap, err := st.w.table.Latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// nullKeys sums the key null counts of the files' stats.
func nullKeys(t *testing.T, snap *lake.Snapshot) float64 {
	var n float64
	for _, a := range snap.Files() {
		s, _, err := a.ParseStats()
		if err != nil {
			t.Fatal(err)
		}
		n += s.NullCount["key"].(float64)
	}
	return n
}

func hourFilesOf(snap *lake.Snapshot, h layout.Hour) []lake.Add {
	var out []lake.Add
	for _, a := range snap.Files() {
		if fh, ok := layout.FileHour(&a); ok && fh == h {
			out = append(out, a)
		}
	}
	return out
}

func verifyOK(t *testing.T, store lake.Store) VerifyReport {
	t.Helper()
	rep, err := Verify(t.Context(), VerifyConfig{Store: store, Stream: "events"})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("verify: %v", rep.Problems)
	}
	return rep
}

func TestCompactKeepsRowsLedgerAndVerify(t *testing.T) {
	tests := []struct {
		name      string
		target    int64
		wantFiles func(n int) bool
	}{
		{"one large file", DefaultCompactSize, func(n int) bool { return n == 1 }},
		{"target splits the hour", 6 << 10, func(n int) bool { return n > 1 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := newSealedTable(t, mem.New())
			// A file in the current hour, which is not sealed and must stay as it is.
			st.commitKafka(t, compactTPs[0], 5, time.Now())
			before := st.snap(t)
			beforeRows := allRows(t, st.w.table, before)
			beforeRep := verifyOK(t, st.store)
			smallFiles := len(hourFilesOf(before, st.hour))

			c := NewCompactor(st.store, CompactOptions{TargetSize: tc.target, Logger: testLogger(t)})
			results, err := c.Sealed(t.Context(), "events")
			if err != nil {
				t.Fatal(err)
			}
			if len(results) != 1 || results[0].Hour != st.hour.String() || results[0].Removed < 2 {
				t.Fatalf("results: got %+v, want one compaction of hour %s", results, st.hour)
			}
			after := st.snap(t)
			if after.Version != results[0].Version {
				t.Errorf("version: table at %d, compaction reported %d", after.Version, results[0].Version)
			}
			got := hourFilesOf(after, st.hour)
			if !tc.wantFiles(len(got)) || len(got) >= smallFiles {
				t.Errorf("files of the hour: got %d (from %d)", len(got), smallFiles)
			}
			if len(after.Files())-len(got) != len(before.Files())-smallFiles {
				t.Errorf("files outside the hour changed: %d before, %d after", len(before.Files())-smallFiles, len(after.Files())-len(got))
			}
			if rows := allRows(t, st.w.table, after); !reflect.DeepEqual(rows, beforeRows) {
				t.Errorf("rows changed by compaction: %d before, %d after", len(beforeRows), len(rows))
			}
			if a, b := nullKeys(t, after), nullKeys(t, before); a != b {
				t.Errorf("null keys: %v after, %v before (empty keys must stay non-null)", a, b)
			}
			if !reflect.DeepEqual(after.Txns(), before.Txns()) {
				t.Errorf("ledger changed: %v -> %v", before.Txns(), after.Txns())
			}
			rep := verifyOK(t, st.store)
			if rep.KafkaRows != beforeRep.KafkaRows || rep.HTTPRows != beforeRep.HTTPRows || !reflect.DeepEqual(rep.Partitions, beforeRep.Partitions) {
				t.Errorf("verify report changed:\n before %+v\n after  %+v", beforeRep, rep)
			}
			added := 0
			for _, a := range got {
				if _, old := before.File(a.DecodedPath()); old {
					continue // a file with no neighbour to merge with stays
				}
				added++
				if a.Tags[TagCompacted] != "true" {
					t.Errorf("%s: tags %v, want compacted", a.Path, a.Tags)
				}
			}
			if added != results[0].Added {
				t.Errorf("new files in the hour: got %d, compaction reported %d", added, results[0].Added)
			}
			checkCommitHasNoDataChange(t, st.store, results[0].Version, results[0].Removed, results[0].Added)

			// Idempotent: nothing left to do, nothing committed.
			again, err := c.Sealed(t.Context(), "events")
			if err != nil || len(again) != 0 {
				t.Fatalf("second compaction: %+v, %v; want nothing", again, err)
			}
			if v := st.snap(t).Version; v != after.Version {
				t.Errorf("second compaction committed v%d", v)
			}
			if _, err := c.Hour(t.Context(), "events", layout.HourOf(time.Now())); !errors.As(err, new(*UnsealedError)) {
				t.Errorf("compacting the current hour: got %v, want an UnsealedError", err)
			}
		})
	}
}

func TestCompactMergesNeighbouringRanges(t *testing.T) {
	st := newSealedTable(t, mem.New())
	if _, err := NewCompactor(st.store, CompactOptions{}).Hour(t.Context(), "events", st.hour); err != nil {
		t.Fatal(err)
	}
	files := hourFilesOf(st.snap(t), st.hour)
	if len(files) != 1 {
		t.Fatalf("got %d files, want 1", len(files))
	}
	want := fmt.Sprintf("http=0-%d;kafka/events/0=0-%d;kafka/events/1=0-%d;kafka/more-events/0=0-%d",
		st.seq-1, st.next[compactTPs[0]]-1, st.next[compactTPs[1]]-1, st.next[compactTPs[2]]-1)
	if got := files[0].Tags[TagOffsets]; got != want {
		t.Errorf("offsets tag: got %q, want %q", got, want)
	}
	if got := files[0].Tags[TagSource]; got != SourceMixed {
		t.Errorf("source tag: got %q, want %q", got, SourceMixed)
	}
}

// checkCommitHasNoDataChange reads commit v and checks it only removes and adds
// files, all with dataChange=false, so Silver and streaming readers skip it.
func checkCommitHasNoDataChange(t *testing.T, store lake.Store, v int64, removes, adds int) {
	t.Helper()
	data, err := lake.ReadAll(t.Context(), store, fmt.Sprintf("bronze/events/_delta_log/%020d.json", v))
	if err != nil {
		t.Fatal(err)
	}
	var gotRemoves, gotAdds int
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		var a lake.Action
		if err := dec.Decode(&a); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		switch {
		case a.Add != nil:
			gotAdds++
			if a.Add.DataChange {
				t.Errorf("add %s has dataChange=true", a.Add.Path)
			}
		case a.Remove != nil:
			gotRemoves++
			if a.Remove.DataChange {
				t.Errorf("remove %s has dataChange=true", a.Remove.Path)
			}
		case a.Txn != nil || a.Metadata != nil || a.Protocol != nil:
			t.Errorf("compaction commit holds %+v; want only adds and removes", a)
		case a.CommitInfo != nil:
			if op := (*a.CommitInfo)["operation"]; op != "OPTIMIZE" {
				t.Errorf("operation %v, want OPTIMIZE", op)
			}
		}
	}
	if gotRemoves != removes || gotAdds != adds {
		t.Errorf("commit v%d: %d removes %d adds, want %d and %d", v, gotRemoves, gotAdds, removes, adds)
	}
}

// hookStore runs onPut before the first upload of a compacted data file, and fails
// commits while failCommits is set.
type hookStore struct {
	lake.Store
	once        sync.Once
	onPut       func()
	failCommits bool
	uploaded    []string
	mu          sync.Mutex
}

func (s *hookStore) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if strings.Contains(key, "/part-") {
		s.mu.Lock()
		s.uploaded = append(s.uploaded, key)
		s.mu.Unlock()
		if s.onPut != nil {
			s.once.Do(s.onPut)
		}
	}
	return s.Store.Put(ctx, key, r, size)
}

func (s *hookStore) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	if s.failCommits && strings.Contains(key, "_delta_log/") {
		return errors.New("injected crash before the commit")
	}
	return s.Store.PutIfAbsent(ctx, key, data)
}

func TestCompactWithConcurrentIngestCommits(t *testing.T) {
	st := newSealedTable(t, mem.New())
	before := allRows(t, st.w.table, st.snap(t))
	hook := &hookStore{Store: st.store}
	// While the compactor uploads, ingest commits twice into the current hour.
	hook.onPut = func() {
		st.commitKafka(t, compactTPs[1], 9, time.Now())
		st.commitKafka(t, compactTPs[0], 4, time.Now())
	}
	res, err := NewCompactor(hook, CompactOptions{}).Hour(t.Context(), "events", st.hour)
	if err != nil {
		t.Fatal(err)
	}
	if res.Version < 0 || res.Rows != int64(len(before)) {
		t.Fatalf("compaction: %+v, want a commit of %d rows", res, len(before))
	}
	snap := st.snap(t)
	if n := len(hourFilesOf(snap, st.hour)); n != 1 {
		t.Errorf("files of the sealed hour: got %d, want 1", n)
	}
	if n := len(hourFilesOf(snap, layout.HourOf(time.Now()))); n != 2 {
		t.Errorf("files of the current hour: got %d, want the 2 concurrent ingest commits", n)
	}
	rep := verifyOK(t, st.store)
	if want := int64(len(before)) + 13; rep.Rows != want {
		t.Errorf("rows: got %d, want %d", rep.Rows, want)
	}
}

func TestConcurrentCompactorsOfOneHour(t *testing.T) {
	st := newSealedTable(t, mem.New())
	before := allRows(t, st.w.table, st.snap(t))
	hook := &hookStore{Store: st.store}
	var rival CompactResult
	hook.onPut = func() {
		var err error
		if rival, err = NewCompactor(st.store, CompactOptions{}).Hour(t.Context(), "events", st.hour); err != nil {
			t.Error(err)
		}
	}
	res, err := NewCompactor(hook, CompactOptions{}).Hour(t.Context(), "events", st.hour)
	if err != nil {
		t.Fatal(err)
	}
	if rival.Version < 0 || res.Version != -1 {
		t.Fatalf("rival %+v, loser %+v: want the rival to commit and the loser to find nothing left", rival, res)
	}
	snap := st.snap(t)
	if snap.Version != rival.Version {
		t.Errorf("table at v%d, want the rival's v%d only", snap.Version, rival.Version)
	}
	if rows := allRows(t, st.w.table, snap); !reflect.DeepEqual(rows, before) {
		t.Errorf("rows changed: %d before, %d after", len(before), len(rows))
	}
	verifyOK(t, st.store)
}

func TestCompactionCrashLeavesTableAsBefore(t *testing.T) {
	for _, crash := range []string{"during upload", "before commit"} {
		t.Run(crash, func(t *testing.T) {
			st := newSealedTable(t, mem.New())
			before := st.snap(t)
			hook := &hookStore{Store: st.store}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if crash == "during upload" {
				hook.onPut = cancel
			} else {
				hook.failCommits = true
			}
			if _, err := NewCompactor(hook, CompactOptions{}).Hour(ctx, "events", st.hour); err == nil {
				t.Fatal("compaction succeeded through a crash")
			}
			after := st.snap(t)
			if after.Version != before.Version || !reflect.DeepEqual(after.Files(), before.Files()) {
				t.Fatalf("table changed: v%d -> v%d", before.Version, after.Version)
			}
			// What was uploaded is unreferenced: invisible until vacuum removes it.
			for _, key := range hook.uploaded {
				if _, ok := after.File(strings.TrimPrefix(key, "bronze/events/")); ok {
					t.Errorf("%s is in the table", key)
				}
			}
			if len(hook.uploaded) == 0 {
				t.Fatal("the crash came before any upload; the test did not crash mid-compaction")
			}
			verifyOK(t, st.store)
			// A later run completes the job.
			res, err := NewCompactor(st.store, CompactOptions{}).Hour(t.Context(), "events", st.hour)
			if err != nil || res.Version < 0 {
				t.Fatalf("compaction after the crash: %+v, %v", res, err)
			}
			if rows := allRows(t, st.w.table, st.snap(t)); !reflect.DeepEqual(rows, allRows(t, st.w.table, before)) {
				t.Error("rows changed")
			}
		})
	}
}

func TestSpansRoundTrip(t *testing.T) {
	spans := []Span{
		{Source: SourceHTTP, Partition: -1, First: 0, Last: 9},
		{Source: SourceKafka, Topic: "a-b.c", Partition: 3, First: 5, Last: 5},
		{Source: SourceKafka, Topic: "a-b.c", Partition: 3, First: 10, Last: 20},
	}
	tag := formatSpans(spans)
	if want := "http=0-9;kafka/a-b.c/3=5-5,10-20"; tag != want {
		t.Errorf("format: got %q, want %q", tag, want)
	}
	got, ok := FileSpans(&lake.Add{Tags: map[string]string{TagOffsets: tag}})
	if !ok || !reflect.DeepEqual(got, spans) {
		t.Errorf("parse: got %+v (ok %v), want %+v", got, ok, spans)
	}
	for _, bad := range []string{"kafka/x/0", "kafka/x/0=5-3", "nope=1-2", "http=1"} {
		if _, ok := FileSpans(&lake.Add{Tags: map[string]string{TagOffsets: bad}}); ok {
			t.Errorf("FileSpans accepted %q", bad)
		}
	}
}

func TestServiceCompactsSealedHours(t *testing.T) {
	st := newSealedTable(t, mem.New())
	before := allRows(t, st.w.table, st.snap(t))
	_, stop := runService(t, Config{
		Store: st.store, HTTPAddr: "127.0.0.1:0", HTTP: HTTPConfig{Streams: []string{"events"}},
		Compact: CompactConfig{Interval: 20 * time.Millisecond},
	})
	waitFor(t, "the service to compact the sealed hour", func() bool {
		return len(hourFilesOf(st.snap(t), st.hour)) == 1
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if rows := allRows(t, st.w.table, st.snap(t)); !reflect.DeepEqual(rows, before) {
		t.Errorf("rows changed: %d before, %d after", len(before), len(rows))
	}
	verifyOK(t, st.store)
}
