package engine

import (
	"bytes"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
)

// Timestamps inside structs and lists are Delta timestamps too: the schema calls them
// "timestamp", so the files must hold INT64 TIMESTAMP(MICROS, UTC) there as well, not
// DuckDB's naive TIMESTAMP (which Parquet readers take for timestamp_ntz).
func TestWriteFilesNestedTimestampsAreUTC(t *testing.T) {
	ctx := t.Context()
	s := openSession(t)
	store := mem.New()
	q := `SELECT i AS id,
	             {'at': TIMESTAMP '2026-11-21 08:00:00' + i * INTERVAL 1 SECOND, 'n': i} AS ev,
	             [TIMESTAMP_NS '2026-11-21 09:00:00.123456789'] AS seen
	      FROM range(3) AS t(i)`
	table := createTable(t, s, store, "t", nil, q)
	adds, err := s.WriteFiles(ctx, table, nil, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(adds) != 1 {
		t.Fatalf("%d files, want 1", len(adds))
	}
	data, err := lake.ReadAll(ctx, store, table.Key(adds[0].DecodedPath()))
	if err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, col := range f.Schema().Columns() {
		leaf, ok := f.Schema().Lookup(col...)
		if !ok {
			t.Fatalf("column %v not found", col)
		}
		lt := leaf.Node.Type().LogicalType()
		tst, isTS := lt.Value.(*format.TimestampType)
		if !isTS {
			continue
		}
		found++
		_, micros := tst.Unit.Value.(*format.MicroSeconds)
		if !tst.IsAdjustedToUTC || !micros || leaf.Node.Type().Kind() != parquet.Int64 {
			t.Errorf("column %v stored as %v %v, want INT64 TIMESTAMP(MICROS, UTC)", col, leaf.Node.Type().Kind(), lt)
		}
	}
	if found != 2 {
		t.Errorf("%d timestamp columns in the file, want 2 (ev.at and seen[])", found)
	}
}
