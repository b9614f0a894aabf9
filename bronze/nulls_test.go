package bronze

import (
	"database/sql"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/internal/footercheck"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
)

// nullCase is one record's key and headers as a producer sends them. A nil key or
// header value is null; []byte{} is present and empty.
type nullCase struct {
	key     []byte
	headers []kgo.RecordHeader
}

func keys(ks ...[]byte) []nullCase {
	var out []nullCase
	for _, k := range ks {
		out = append(out, nullCase{key: k})
	}
	return out
}

var (
	kNull  []byte
	kEmpty = []byte{}
	kSet   = []byte("key")
)

// nullSequences are the records of one partition each, in offset order: the key
// sequences that lost a null, and headers with null, empty and set values.
var nullSequences = [][]nullCase{
	keys(kNull, kSet, kNull),
	keys(kNull, kSet, kNull, kNull, kNull),
	keys(kSet, kNull, kNull),
	keys(kEmpty, kNull, kEmpty, kSet, kNull, kEmpty),
	keys(kNull, kNull, kSet, kSet, kNull, kNull, kNull),
	{
		{},
		{headers: []kgo.RecordHeader{{Key: "a"}}},
		{headers: []kgo.RecordHeader{{Key: "a", Value: []byte{}}, {Key: "b", Value: []byte("v")}}},
		{headers: []kgo.RecordHeader{{Key: "a"}, {Key: "b", Value: []byte("x")}, {Key: "c"}}},
		{headers: []kgo.RecordHeader{{Key: "a", Value: []byte("1")}, {Key: "a"}}},
		{headers: []kgo.RecordHeader{{Key: "a", Value: []byte("1")}}},
		{headers: []kgo.RecordHeader{{Key: "a"}}},
		{},
	},
}

// describe renders a key and headers as the DuckDB query of duckRecords does.
func (c nullCase) describe() string {
	var hs []string
	for _, h := range c.headers {
		hs = append(hs, h.Key+"="+describeBytes(h.Value))
	}
	return "key=" + describeBytes(c.key) + " headers=[" + strings.Join(hs, ",") + "]"
}

func describeBytes(b []byte) string {
	if b == nil {
		return "null"
	}
	return fmt.Sprintf("0x%X", b)
}

func openDuck(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// localCopy writes the data file of a to a local file that DuckDB reads.
func localCopy(t *testing.T, tbl *lake.Table, a lake.Add) string {
	t.Helper()
	data, err := lake.ReadAll(t.Context(), tbl.Store(), path.Join(tbl.Root(), a.DecodedPath()))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), path.Base(a.DecodedPath()))
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// duckRecords reads, with DuckDB, the key and headers of every row of a Parquet
// file by topic, partition and offset, rendered as nullCase.describe does.
func duckRecords(t *testing.T, db *sql.DB, file string) map[string]string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT topic, "partition", "offset",
		'key=' || CASE WHEN key IS NULL THEN 'null' ELSE '0x' || hex(key) END ||
		' headers=[' || array_to_string(list_transform(headers,
			h -> h.key || '=' || CASE WHEN h.value IS NULL THEN 'null' ELSE '0x' || hex(h.value) END), ',') || ']'
		FROM read_parquet(?)`, file)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]string{}
	for rows.Next() {
		var (
			topic     sql.NullString
			partition int32
			offset    int64
			desc      string
		)
		if err := rows.Scan(&topic, &partition, &offset, &desc); err != nil {
			t.Fatal(err)
		}
		got[fmt.Sprintf("%s/%d@%d", topic.String, partition, offset)] = desc
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// checkStatsAgainstDuckDB asserts that the null counts of a's Delta stats are the
// nulls DuckDB counts in the file.
func checkStatsAgainstDuckDB(t *testing.T, db *sql.DB, a lake.Add, file string) {
	t.Helper()
	var rows, key, topic, sourceTs float64
	if err := db.QueryRowContext(t.Context(), `SELECT count(*), count(*) - count(key), count(*) - count(topic),
		count(*) - count(source_timestamp) FROM read_parquet(?)`, file).Scan(&rows, &key, &topic, &sourceTs); err != nil {
		t.Fatal(err)
	}
	st, ok, err := a.ParseStats()
	if err != nil || !ok {
		t.Fatalf("%s: stats %v, %v", a.Path, ok, err)
	}
	if float64(st.NumRecords) != rows {
		t.Errorf("%s: numRecords %d, DuckDB counts %v rows", a.Path, st.NumRecords, rows)
	}
	for col, want := range map[string]float64{"key": key, "topic": topic, "source_timestamp": sourceTs} {
		if got := st.NullCount[col]; got != want {
			t.Errorf("%s: nullCount.%s %v, DuckDB counts %v nulls", a.Path, col, got, want)
		}
	}
}

// wantPaths are the path_in_schema of the column chunks of a Bronze file, as
// DuckDB's parquet_metadata renders them.
var wantPaths = []string{"payload", "key", "headers, list, element, key", "headers, list, element, value",
	"source", "topic", "partition", "offset", "source_timestamp", "ingested_at"}

// checkColumnPaths asserts that every column chunk of file names its column.
func checkColumnPaths(t *testing.T, db *sql.DB, file string) {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT row_group_id, list(path_in_schema ORDER BY column_id)
		FROM parquet_metadata(?) GROUP BY row_group_id ORDER BY row_group_id`, file)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	groups := 0
	for rows.Next() {
		var (
			rg    int64
			paths []any
		)
		if err := rows.Scan(&rg, &paths); err != nil {
			t.Fatal(err)
		}
		groups++
		got := make([]string, len(paths))
		for i, p := range paths {
			got[i], _ = p.(string)
		}
		if !reflect.DeepEqual(got, wantPaths) {
			t.Errorf("%s row group %d: path_in_schema %q, want %q", filepath.Base(file), rg, got, wantPaths)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if groups == 0 {
		t.Errorf("%s: no row groups", filepath.Base(file))
	}
}

// Records with null and empty keys and header values, each sequence on its own
// partition, go through a real broker and ingest, twice, so that the second round
// is written by a process that has written files before. DuckDB reads back exactly
// what was produced, each file's stats count the nulls DuckDB counts, and every
// file's column chunks name their columns.
func TestKafkaNullsAreStoredAsNulls(t *testing.T) {
	b := startBroker(t, map[string]int32{"nulls": int32(len(nullSequences))})
	store := mem.New()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.DefaultProduceTopic("nulls"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	want := map[string]string{}
	produceRound := func(round int) {
		for p, seq := range nullSequences {
			for i, c := range seq {
				rec := &kgo.Record{Partition: int32(p), Key: c.key, Value: fmt.Appendf(nil, `{"i":%d}`, i), Headers: c.headers}
				if err := cl.ProduceSync(t.Context(), rec).FirstErr(); err != nil {
					t.Fatal(err)
				}
				want[fmt.Sprintf("nulls/%d@%d", p, round*len(seq)+i)] = c.describe()
			}
		}
	}

	produceRound(0)
	_, stop := runService(t, Config{
		Store: store, Brokers: []string{b.Addr()}, Topics: map[string]string{"nulls": "nulls"},
		FlushInterval: 200 * time.Millisecond,
	})
	waitFor(t, "the first round in Bronze", func() bool { return ledgerTotal(t, store, "nulls") == int64(len(want)) })
	produceRound(1)
	waitFor(t, "the second round in Bronze", func() bool { return ledgerTotal(t, store, "nulls") == int64(len(want)) })
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	table := lake.NewTable(store, layout.TableRoot("nulls"))
	snap, err := table.Latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	db := openDuck(t)
	got := map[string]string{}
	for _, a := range snap.Files() {
		file := localCopy(t, table, a)
		for k, v := range duckRecords(t, db, file) {
			got[k] = v
		}
		checkStatsAgainstDuckDB(t, db, a, file)
		checkColumnPaths(t, db, file)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: stored %q, produced %q", k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("rows: got %d, want %d", len(got), len(want))
	}
	rep, err := Verify(t.Context(), VerifyConfig{Store: store, Stream: "nulls", Brokers: []string{b.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Errorf("verify: %v", rep.Problems)
	}
	footercheck.Check(t, store)
}

// longSequence has a batch of set keys and headers and then nulls: a reader that
// reuses its rows between batches must not carry a value into a null.
func longSequence() []nullCase {
	var seq []nullCase
	for i := range 600 {
		c := nullCase{key: fmt.Appendf(nil, "k%d", i), headers: []kgo.RecordHeader{{Key: "h", Value: []byte("v")}}}
		if i >= batchRows {
			c = nullCase{headers: []kgo.RecordHeader{{Key: "h"}}}
			if i%2 == 0 {
				c.headers = nil
			}
		}
		seq = append(seq, c)
	}
	return seq
}

// commitNullCases commits one file of tp holding seq, and returns what each row
// holds as duckRecords renders it.
func (st *sealedTable) commitNullCases(t *testing.T, tp TopicPartition, seq []nullCase, at time.Time, want map[string]string) {
	t.Helper()
	from := st.next[tp]
	f, err := newDataFile(st.pool, layout.HourOf(at))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Discard)
	for i, c := range seq {
		o := from + int64(i)
		r := Row{Payload: fmt.Appendf(nil, `{"o":%d}`, o), Key: c.key, Source: SourceKafka, Topic: tp.Topic,
			Partition: tp.Partition, Offset: o, IngestedAt: at.UnixMicro() + o}
		if o%2 == 0 {
			r.SourceTimestamp = at.Add(-time.Minute).UnixMicro() + o
		}
		var hdrs []Header
		for _, h := range c.headers {
			hdrs = append(hdrs, Header{Key: h.Key, Value: h.Value})
		}
		if err := f.Append(r, hdrs); err != nil {
			t.Fatal(err)
		}
		want[fmt.Sprintf("%s/%d@%d", tp.Topic, tp.Partition, o)] = c.describe()
	}
	if err := f.Finish(); err != nil {
		t.Fatal(err)
	}
	n := int64(len(seq))
	res, err := st.w.commitKafka(t.Context(), []partFlush{{TP: tp, Files: []*dataFile{f}, Expect: position{from, from > 0},
		Next: from + n, MinIngest: at.UnixMicro() + from}}, at)
	if err != nil || len(res.Committed) != 1 {
		t.Fatalf("commit %s %d..%d: %+v, %v", tp, from, from+n, res, err)
	}
	st.next[tp] = from + n
}

// Compaction rewrites null and empty keys and header values exactly, its files'
// stats count the nulls DuckDB counts, and every file it writes, not only its
// first, names its columns.
func TestCompactionKeepsNullsAndColumnPaths(t *testing.T) {
	store := mem.New()
	st := &sealedTable{
		store: store,
		w:     newTableWriter(store, "events", testLogger(t), NewMetrics(nil)),
		pool:  &writerMaker{opts: FileOptions{}.withDefaults()},
		hour:  layout.HourOf(time.Now().Add(-3 * time.Hour)),
		next:  map[TopicPartition]int64{},
	}
	at := st.hour.Time().Add(10 * time.Minute)
	want := map[string]string{}
	for _, seq := range append([][]nullCase{longSequence()}, nullSequences...) {
		st.commitNullCases(t, compactTPs[0], seq, at, want)
	}
	for _, tp := range compactTPs[1:] {
		st.commitKafka(t, tp, 40, at)
	}
	st.commitHTTP(t, 15, at)
	st.advanceMarks(t, time.Now())

	c := NewCompactor(store, CompactOptions{TargetSize: 12 << 10, Logger: testLogger(t)})
	results, err := c.Sealed(t.Context(), "events")
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 || results[0].Added < 3 {
		t.Fatalf("results: %+v, want one compaction that writes at least 3 files", results)
	}
	db := openDuck(t)
	got := map[string]string{}
	compacted := 0
	for _, a := range st.snap(t).Files() {
		if a.Tags[TagCompacted] != "true" {
			continue
		}
		compacted++
		file := localCopy(t, st.w.table, a)
		for k, v := range duckRecords(t, db, file) {
			if _, ours := want[k]; ours {
				got[k] = v
			}
		}
		checkStatsAgainstDuckDB(t, db, a, file)
		checkColumnPaths(t, db, file)
	}
	if compacted != results[0].Added {
		t.Errorf("compacted files: %d in the table, compaction reported %d", compacted, results[0].Added)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: compacted to %q, ingested %q", k, got[k], w)
		}
	}
	verifyOK(t, store)
	footercheck.Check(t, store)
}
