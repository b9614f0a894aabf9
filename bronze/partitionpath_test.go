package bronze

import (
	"bytes"
	"fmt"
	"path"
	"testing"
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/internal/footercheck"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
)

// singleDigitHourTable is a sealed Bronze table of yesterday's 09:00 UTC hour, the
// kind of hour whose directory and partition value once differed (09 against "9").
func singleDigitHourTable(t *testing.T) *sealedTable {
	t.Helper()
	st := &sealedTable{
		store: mem.New(),
		pool:  &writerMaker{opts: FileOptions{}.withDefaults()},
		hour:  layout.HourOf(time.Now().UTC().Truncate(24 * time.Hour).Add(-24*time.Hour + 9*time.Hour)),
		next:  map[TopicPartition]int64{},
	}
	st.w = newTableWriter(st.store, "events", testLogger(t), NewMetrics(nil))
	for flush := range 3 {
		at := st.hour.Time().Add(time.Duration(10+flush) * time.Minute)
		for _, tp := range compactTPs {
			st.commitKafka(t, tp, 25, at)
		}
		st.commitHTTP(t, 10, at)
	}
	st.advanceMarks(t, time.Now())
	return st
}

// Ingest names a file's directory from its partition values: ingest_hour=9, as
// the log says "9", never 09.
func TestDataFileDirectoryIsItsPartitionValues(t *testing.T) {
	st := singleDigitHourTable(t)
	files := st.snap(t).Files()
	if len(files) == 0 {
		t.Fatal("no files")
	}
	for _, a := range files {
		if h := *a.PartitionValues[layout.ColIngestHour]; h != "9" {
			t.Errorf("%s: ingest_hour value %q, want \"9\"", a.Path, h)
		}
		if !a.PartitionPathAgrees(layout.PartitionColumns) {
			t.Errorf("%s: directory does not say its partition values %v", a.Path, a.PartitionValues)
		}
	}
	footercheck.Check(t, st.store)
}

// A table written before, with files under ingest_hour=09, still reads, verifies
// and compacts by the log's partition values; compaction's files go where the
// values say.
func TestPaddedHourDirectoriesStillRead(t *testing.T) {
	st := singleDigitHourTable(t)
	before, _ := latestRows(t, st.store, "events")
	moveToPaddedHour(t, st)
	for _, a := range st.snap(t).Files() {
		if want := fmt.Sprintf("ingest_hour=%02d", st.hour.Time().Hour()); path.Base(path.Dir(a.DecodedPath())) != want {
			t.Fatalf("%s: not moved under %s", a.Path, want)
		}
	}
	if got, _ := latestRows(t, st.store, "events"); len(got) != len(before) {
		t.Fatalf("rows of the padded layout: %d, want %d", len(got), len(before))
	}
	verifyOK(t, st.store)

	c := NewCompactor(st.store, CompactOptions{TargetSize: 1 << 20, Logger: testLogger(t)})
	results, err := c.Sealed(t.Context(), "events")
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 || results[0].Hour != st.hour.String() || results[0].Added == 0 {
		t.Fatalf("compaction: %+v, want hour %s compacted", results, st.hour)
	}
	after, _ := latestRows(t, st.store, "events")
	if len(after) != len(before) {
		t.Errorf("rows after compaction: %d, want %d", len(after), len(before))
	}
	for _, a := range st.snap(t).Files() {
		if a.Tags[TagCompacted] == "true" && !a.PartitionPathAgrees(layout.PartitionColumns) {
			t.Errorf("compacted file %s: directory does not say its partition values", a.Path)
		}
	}
	verifyOK(t, st.store)
}

// moveToPaddedHour rewrites every live file of the table to the directory Bronze
// used to write, ingest_hour=HH, in one commit, as such a table's log reads.
func moveToPaddedHour(t *testing.T, st *sealedTable) {
	t.Helper()
	snap := st.snap(t)
	tbl := st.w.table
	tx := tbl.Begin(snap)
	now := time.Now()
	for _, a := range snap.Files() {
		old := a.DecodedPath()
		moved := st.hour.Time().Format("ingest_date=2006-01-02/ingest_hour=15") + "/" + path.Base(old)
		data, err := lake.ReadAll(t.Context(), st.store, tbl.Key(old))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.store.Put(t.Context(), tbl.Key(moved), bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
		r := a.RemoveAt(now)
		r.DataChange = false
		tx.Remove(r)
		a.Path, a.DataChange = lake.EncodePath(moved), false
		tx.Add(a)
	}
	if _, err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
}
