package lake_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/lakectl/lakectl/internal/golden"
	"github.com/lakectl/lakectl/lake"
	lakefs "github.com/lakectl/lakectl/lake/fs"
	"github.com/lakectl/lakectl/lake/mem"
)

// The golden table testdata/delta/stats-parsed is built by writeStatsParsedTable from
// PROTOCOL.md, as Spark and delta-rs write tables with
// delta.checkpoint.writeStatsAsJson=false and writeStatsAsStruct=true: its checkpoint
// (v2) holds the adds' statistics only in add.stats_parsed (add.stats is null) and
// their partition values also in add.partitionValues_parsed; the commits it covers
// are gone, as after a log cleanup; v3 adds one more file with JSON stats.
//
//	go test ./lake -run TestStatsParsedGolden -update-stats-parsed
var updateStatsParsed = flag.Bool("update-stats-parsed", false, "rewrite testdata/delta/stats-parsed")

const statsParsedDir = "../testdata/delta/stats-parsed"

// The checkpoint's columns, typed for this table's schema (id long, name string,
// amount decimal(10,2), at timestamp; partitioned by day date, region string).
type (
	spRow struct {
		Txn      *spTxn      `parquet:"txn,optional"`
		Add      *spAdd      `parquet:"add,optional"`
		Remove   *spRemove   `parquet:"remove,optional"`
		Metadata *spMetadata `parquet:"metaData,optional"`
		Protocol *spProtocol `parquet:"protocol,optional"`
	}
	spTxn struct {
		AppID   string `parquet:"appId"`
		Version int64  `parquet:"version"`
	}
	spAdd struct {
		Path                  string             `parquet:"path"`
		PartitionValues       map[string]*string `parquet:"partitionValues,optional"`
		Size                  int64              `parquet:"size"`
		ModificationTime      int64              `parquet:"modificationTime"`
		DataChange            bool               `parquet:"dataChange"`
		Stats                 *string            `parquet:"stats,optional"`
		PartitionValuesParsed *spPartitions      `parquet:"partitionValues_parsed,optional"`
		StatsParsed           *spStats           `parquet:"stats_parsed,optional"`
	}
	spPartitions struct {
		Day    *int32  `parquet:"day,optional,date"`
		Region *string `parquet:"region,optional"`
	}
	spStats struct {
		NumRecords *int64    `parquet:"numRecords,optional"`
		MinValues  *spValues `parquet:"minValues,optional"`
		MaxValues  *spValues `parquet:"maxValues,optional"`
		NullCount  *spCounts `parquet:"nullCount,optional"`
	}
	spValues struct {
		ID     *int64  `parquet:"id,optional"`
		Name   *string `parquet:"name,optional"`
		Amount *int64  `parquet:"amount,optional,decimal(2:10)"`
		At     *int64  `parquet:"at,optional,timestamp(microsecond:utc)"`
	}
	spCounts struct {
		ID     *int64 `parquet:"id,optional"`
		Name   *int64 `parquet:"name,optional"`
		Amount *int64 `parquet:"amount,optional"`
		At     *int64 `parquet:"at,optional"`
	}
	spRemove struct {
		Path                 string             `parquet:"path"`
		DeletionTimestamp    int64              `parquet:"deletionTimestamp"`
		DataChange           bool               `parquet:"dataChange"`
		ExtendedFileMetadata bool               `parquet:"extendedFileMetadata"`
		PartitionValues      map[string]*string `parquet:"partitionValues,optional"`
		Size                 int64              `parquet:"size"`
	}
	spMetadata struct {
		ID               string            `parquet:"id"`
		Format           spFormat          `parquet:"format"`
		SchemaString     string            `parquet:"schemaString"`
		PartitionColumns []string          `parquet:"partitionColumns,list"`
		Configuration    map[string]string `parquet:"configuration"`
		CreatedTime      int64             `parquet:"createdTime"`
	}
	spFormat struct {
		Provider string            `parquet:"provider"`
		Options  map[string]string `parquet:"options"`
	}
	spProtocol struct {
		MinReaderVersion int32 `parquet:"minReaderVersion"`
		MinWriterVersion int32 `parquet:"minWriterVersion"`
	}
)

// spData is a row of the table's data files.
type spData struct {
	ID     int64   `parquet:"id"`
	Name   *string `parquet:"name,optional"`
	Amount int64   `parquet:"amount,decimal(2:10)"` // cents
	At     int64   `parquet:"at,timestamp(microsecond:utc)"`
}

// spFile is one data file of the table: its partition and rows.
type spFile struct {
	name   string
	day    string // "" never: every file has a day
	region *string
	rows   []spData
}

func strp(s string) *string { return &s }

var (
	spBase  = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	spFiles = []spFile{
		{name: "part-00000-a.snappy.parquet", day: "2026-11-20", region: strp("eu"), rows: []spData{
			{1, strp("ann"), 1050, spBase.Add(1500 * time.Microsecond).UnixMicro()},
			{2, strp("bob"), 99, spBase.Add(time.Minute).UnixMicro()},
			{3, nil, 100000, spBase.Add(2*time.Minute + 7*time.Microsecond).UnixMicro()},
		}},
		{name: "part-00001-b.snappy.parquet", day: "2026-11-20", region: strp("us"), rows: []spData{
			{4, strp("cy"), 5, spBase.UnixMicro()},
		}},
		{name: "part-00002-c.snappy.parquet", day: "2026-11-21", region: nil, rows: []spData{
			{10, nil, -250, spBase.Add(24 * time.Hour).UnixMicro()},
			{11, nil, 0, spBase.Add(25*time.Hour + 999*time.Microsecond).UnixMicro()},
		}},
		{name: "part-00003-d.snappy.parquet", day: "2026-11-21", region: strp("eu"), rows: []spData{
			{20, strp("dee"), 777, spBase.Add(26 * time.Hour).UnixMicro()},
		}},
	}
	spPartitionCols = []string{"day", "region"}
)

const spSchema = `{"type":"struct","fields":[` +
	`{"name":"id","type":"long","nullable":false,"metadata":{}},` +
	`{"name":"name","type":"string","nullable":true,"metadata":{}},` +
	`{"name":"amount","type":"decimal(10,2)","nullable":false,"metadata":{}},` +
	`{"name":"at","type":"timestamp","nullable":false,"metadata":{}},` +
	`{"name":"day","type":"date","nullable":false,"metadata":{}},` +
	`{"name":"region","type":"string","nullable":true,"metadata":{}}]}`

func (f spFile) partitionValues() map[string]*string {
	return map[string]*string{"day": strp(f.day), "region": f.region}
}

func (f spFile) path() string { return lake.DataFilePath(spPartitionCols, f.partitionValues(), f.name) }

// stats are the file's statistics, computed from its rows.
func (f spFile) stats() spStats {
	n := int64(len(f.rows))
	st := spStats{NumRecords: &n, MinValues: &spValues{}, MaxValues: &spValues{},
		NullCount: &spCounts{ID: new(int64), Name: new(int64), Amount: new(int64), At: new(int64)}}
	for _, r := range f.rows {
		keep := func(lo, hi **int64, v int64) {
			if *lo == nil || v < **lo {
				*lo = &v
			}
			if *hi == nil || v > **hi {
				*hi = &v
			}
		}
		keep(&st.MinValues.ID, &st.MaxValues.ID, r.ID)
		keep(&st.MinValues.Amount, &st.MaxValues.Amount, r.Amount)
		keep(&st.MinValues.At, &st.MaxValues.At, r.At)
		if r.Name == nil {
			*st.NullCount.Name++
			continue
		}
		if st.MinValues.Name == nil || *r.Name < *st.MinValues.Name {
			st.MinValues.Name = r.Name
		}
		if st.MaxValues.Name == nil || *r.Name > *st.MaxValues.Name {
			st.MaxValues.Name = r.Name
		}
	}
	return st
}

// statsJSON is what a reader must make of stats(): Delta's JSON statistics, numbers
// exact, timestamps to the microsecond.
func (f spFile) statsJSON() string {
	st := f.stats()
	values := func(v *spValues) map[string]any {
		m := map[string]any{"id": *v.ID, "amount": json.Number(fmt.Sprintf("%.2f", float64(*v.Amount)/100)),
			"at": lake.StatsTimestamp(*v.At)}
		if v.Name != nil {
			m["name"] = *v.Name
		}
		return m
	}
	b, _ := json.Marshal(lake.Stats{NumRecords: *st.NumRecords, MinValues: values(st.MinValues), MaxValues: values(st.MaxValues),
		NullCount: map[string]any{"id": 0, "name": *st.NullCount.Name, "amount": 0, "at": 0}})
	return string(b)
}

func (f spFile) data(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[spData](&buf)
	if _, err := w.Write(f.rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeStatsParsedTable writes the golden table into store under root.
func writeStatsParsedTable(t *testing.T, store lake.Store, root string) {
	t.Helper()
	ctx := t.Context()
	tbl := lake.NewTable(store, root)
	put := func(key string, data []byte) {
		if err := store.Put(ctx, tbl.Key(key), bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
	}
	sizes := map[string]int64{}
	for _, f := range spFiles {
		data := f.data(t)
		put(f.path(), data)
		sizes[f.name] = int64(len(data))
	}
	modified := spBase.Add(30 * time.Hour).UnixMilli()
	day := func(s string) *int32 {
		d, _ := time.Parse(time.DateOnly, s)
		v := int32(d.Unix() / 86400)
		return &v
	}
	parsedAdd := func(f spFile) *spAdd {
		st := f.stats()
		return &spAdd{Path: lake.EncodePath(f.path()), PartitionValues: f.partitionValues(), Size: sizes[f.name],
			ModificationTime: modified, DataChange: false, StatsParsed: &st,
			PartitionValuesParsed: &spPartitions{Day: day(f.day), Region: f.region}}
	}
	rows := []spRow{
		{Protocol: &spProtocol{MinReaderVersion: 1, MinWriterVersion: 2}},
		{Metadata: &spMetadata{ID: "5b2f8a4e-3c1d-4e7a-9f60-2d8c1b7e4a90", Format: spFormat{Provider: "parquet", Options: map[string]string{}},
			SchemaString: spSchema, PartitionColumns: spPartitionCols, CreatedTime: spBase.UnixMilli(),
			Configuration: map[string]string{"delta.checkpoint.writeStatsAsJson": "false", "delta.checkpoint.writeStatsAsStruct": "true"}}},
		{Txn: &spTxn{AppID: "loader", Version: 2}},
		{Add: parsedAdd(spFiles[0])},
		{Add: parsedAdd(spFiles[2])},
		{Remove: &spRemove{Path: lake.EncodePath(spFiles[1].path()), DeletionTimestamp: modified, DataChange: true,
			ExtendedFileMetadata: true, PartitionValues: spFiles[1].partitionValues(), Size: sizes[spFiles[1].name]}},
	}
	var cp bytes.Buffer
	w := parquet.NewGenericWriter[spRow](&cp)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	put("_delta_log/00000000000000000002.checkpoint.parquet", cp.Bytes())
	put("_delta_log/_last_checkpoint", fmt.Appendf(nil, `{"version":2,"size":%d}`, len(rows)))

	f := spFiles[3]
	commit := []lake.Action{
		{CommitInfo: &lake.CommitInfo{"timestamp": spBase.Add(31 * time.Hour).UnixMilli(), "operation": "WRITE"}},
		{Add: &lake.Add{Path: lake.EncodePath(f.path()), PartitionValues: f.partitionValues(), Size: sizes[f.name],
			ModificationTime: modified, DataChange: true, Stats: f.statsJSON()}},
	}
	var log bytes.Buffer
	for _, a := range commit {
		line, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		log.Write(append(line, '\n'))
	}
	put("_delta_log/00000000000000000003.json", log.Bytes())
}

// statsParsedExpected is the table's expected state, in the shape of the shared
// golden tables' NAME.expected.json.
func statsParsedExpected() golden.DeltaExpected {
	e := golden.DeltaExpected{Version: 3, MinReaderVersion: 1, MinWriterVersion: 2, PartitionColumns: spPartitionCols,
		Txns: map[string]int64{"loader": 2}}
	for _, i := range []int{0, 2, 3} {
		f := spFiles[i]
		n := int64(len(f.rows))
		e.Files = append(e.Files, golden.DeltaFile{Path: f.path(), PartitionValues: f.partitionValues(), NumRecords: &n})
	}
	return e
}

func TestStatsParsedGolden(t *testing.T) {
	if *updateStatsParsed {
		if err := os.RemoveAll(statsParsedDir); err != nil {
			t.Fatal(err)
		}
		store, err := lakefs.New(statsParsedDir)
		if err != nil {
			t.Fatal(err)
		}
		writeStatsParsedTable(t, store, "")
		want := statsParsedExpected()
		snap, err := lake.NewTable(store, "").Latest(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for i := range want.Files { // sizes as written
			f, _ := snap.File(want.Files[i].Path)
			want.Files[i].Size = f.Size
		}
		data, err := json.MarshalIndent(want, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(statsParsedDir+".expected.json", append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var want golden.DeltaExpected
	data, err := os.ReadFile(statsParsedDir + ".expected.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	store, err := lakefs.New(statsParsedDir)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := lake.NewTable(store, "").Latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := report(snap); !reflect.DeepEqual(got, want) {
		t.Errorf("stats-parsed:\n got %+v\nwant %+v", mustJSONString(got), mustJSONString(want))
	}
	// Every file's statistics, bounds included, are the rows' (the JSON a reader makes
	// of stats_parsed is the JSON statistics lakectl writes).
	for _, i := range []int{0, 2, 3} {
		f := spFiles[i]
		a, ok := snap.File(f.path())
		if !ok {
			t.Fatalf("%s not live", f.path())
		}
		if a.Stats == "" {
			t.Errorf("%s: no stats", f.path())
			continue
		}
		if !sameJSON(t, a.Stats, f.statsJSON()) {
			t.Errorf("%s: stats %s, want %s", f.path(), a.Stats, f.statsJSON())
		}
	}
}

// Without add.partitionValues (a writer that keeps only the typed values), the
// partition values come from add.partitionValues_parsed in Delta's serialization.
func TestCheckpointPartitionValuesParsed(t *testing.T) {
	type addNoMap struct {
		Path                  string        `parquet:"path"`
		Size                  int64         `parquet:"size"`
		ModificationTime      int64         `parquet:"modificationTime"`
		DataChange            bool          `parquet:"dataChange"`
		Stats                 *string       `parquet:"stats,optional"`
		PartitionValuesParsed *spPartitions `parquet:"partitionValues_parsed,optional"`
	}
	type row struct {
		Add      *addNoMap   `parquet:"add,optional"`
		Metadata *spMetadata `parquet:"metaData,optional"`
		Protocol *spProtocol `parquet:"protocol,optional"`
	}
	d := int32(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC).Unix() / 86400)
	rows := []row{
		{Protocol: &spProtocol{MinReaderVersion: 1, MinWriterVersion: 2}},
		{Metadata: &spMetadata{ID: "x", Format: spFormat{Provider: "parquet", Options: map[string]string{}}, SchemaString: spSchema,
			PartitionColumns: spPartitionCols, Configuration: map[string]string{}}},
		{Add: &addNoMap{Path: "a.parquet", Size: 1, Stats: strp(`{"numRecords":1}`), PartitionValuesParsed: &spPartitions{Day: &d, Region: strp("eu")}}},
		{Add: &addNoMap{Path: "b.parquet", Size: 1, PartitionValuesParsed: &spPartitions{Day: &d}}},
		{Add: &addNoMap{Path: "c.parquet", Size: 1, PartitionValuesParsed: &spPartitions{Day: &d, Region: strp("us")}}},
	}
	var cp bytes.Buffer
	// Row groups of two rows: the typed values of a row are found across groups.
	w := parquet.NewGenericWriter[row](&cp, parquet.MaxRowsPerRowGroup(2))
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	store := mem.New()
	store.Put(t.Context(), "t/_delta_log/00000000000000000000.checkpoint.parquet", bytes.NewReader(cp.Bytes()), int64(cp.Len()))
	snap, err := lake.NewTable(store, "t").Latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]*string{
		"a.parquet": {"day": strp("2026-11-20"), "region": strp("eu")},
		"b.parquet": {"day": strp("2026-11-20"), "region": nil},
		"c.parquet": {"day": strp("2026-11-20"), "region": strp("us")},
	}
	for _, a := range snap.Files() {
		if !reflect.DeepEqual(a.PartitionValues, want[a.Path]) {
			t.Errorf("%s: partition values %s, want %s", a.Path, mustJSONString(a.PartitionValues), mustJSONString(want[a.Path]))
		}
	}
	if len(snap.Files()) != len(want) {
		t.Errorf("%d files, want %d", len(snap.Files()), len(want))
	}
}

func mustJSONString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// sameJSON compares two JSON documents by value, numbers exactly.
func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	decode := func(s string) any {
		dec := json.NewDecoder(bytes.NewReader([]byte(s)))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		return v
	}
	return reflect.DeepEqual(decode(a), decode(b))
}
