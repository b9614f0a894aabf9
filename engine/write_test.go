package engine

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
	lakefs "github.com/lakectl/lakectl/lake/fs"
	"github.com/lakectl/lakectl/lake/mem"
)

// sourceQuery makes rows of every kind the writer must carry: nulls, a naive TIMESTAMP
// (stored as UTC), a decimal, a partition value that needs escaping, a null partition.
const sourceQuery = `
SELECT i AS id,
       CASE WHEN i % 5 = 0 THEN NULL ELSE 'name ' || i END AS name,
       TIMESTAMP '2026-11-21 08:00:00' + i * INTERVAL 61 SECOND + i * INTERVAL 7 MICROSECOND AS ts,
       CAST(i * 1.25 AS DECIMAL(10,2)) AS amount,
       DATE '2026-11-20' + CAST(i % 2 AS INTEGER) AS day,
       CASE i % 3 WHEN 0 THEN NULL WHEN 1 THEN 'eu/west=1' ELSE 'us' END AS region
FROM range($1) AS t(i)`

// createTable commits a new table with the schema of the query and returns it.
func createTable(t *testing.T, s *Session, store lake.Store, root string, parts []string, query string, args ...any) *lake.Table {
	t.Helper()
	schema, err := s.QuerySchema(t.Context(), query, args...)
	if err != nil {
		t.Fatal(err)
	}
	return newTable(t, store, root, schema, parts...)
}

// appendQuery writes the query's result into table and commits it.
func appendQuery(t *testing.T, s *Session, table *lake.Table, parts []string, query string, args ...any) []lake.Add {
	t.Helper()
	ctx := t.Context()
	snap, err := table.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	adds, err := s.WriteFiles(ctx, table, parts, query, args...)
	if err != nil {
		t.Fatal(err)
	}
	tx := table.Begin(snap)
	tx.Add(adds...)
	if _, err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return adds
}

type storeCase struct {
	name  string
	store func(t *testing.T) lake.Store
}

// Both ways DuckDB gets at files: a remote-like store through the cache, and the file
// store's own paths.
var storeCases = []storeCase{
	{"mem+cache", func(t *testing.T) lake.Store { return mem.New() }},
	{"fs", func(t *testing.T) lake.Store {
		st, err := lakefs.New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return st
	}},
}

func TestWriteFilesReadBackThroughRegisterTable(t *testing.T) {
	for _, sc := range storeCases {
		t.Run(sc.name, func(t *testing.T) {
			ctx := t.Context()
			s := openSession(t)
			store := sc.store(t)
			parts := []string{"day", "region"}
			const n = 200
			table := createTable(t, s, store, "silver/events", parts, sourceQuery, n)
			adds := appendQuery(t, s, table, parts, sourceQuery, n)

			// The adds: Hive-style paths, partition values, stats that add up.
			var records int64
			seenNull := false
			for _, a := range adds {
				rel := a.DecodedPath()
				if !strings.HasPrefix(rel, "day=") || !strings.HasSuffix(rel, ".zstd.parquet") ||
					!strings.Contains(filepath.Base(rel), "part-") {
					t.Errorf("path %q, want day=<d>/region=<r>/part-<uuid>.zstd.parquet", rel)
				}
				region := a.PartitionValues["region"]
				if region == nil {
					seenNull = true
					if !strings.Contains(rel, "/region=__HIVE_DEFAULT_PARTITION__/") {
						t.Errorf("null partition at %q, want region=__HIVE_DEFAULT_PARTITION__", rel)
					}
				} else if *region == "eu/west=1" && !strings.Contains(rel, "/region=eu%2Fwest%3D1/") {
					t.Errorf("escaped partition at %q, want region=eu%%2Fwest%%3D1", rel)
				}
				st, ok, err := a.ParseStats()
				if err != nil || !ok {
					t.Fatalf("stats of %s: ok=%v err=%v", rel, ok, err)
				}
				records += st.NumRecords
				if _, ok := st.MinValues["ts"].(string); !ok {
					t.Errorf("stats of %s: minValues.ts = %v, want an RFC 3339 string", rel, st.MinValues["ts"])
				}
				if a.Size <= 0 || a.ModificationTime <= 0 || !a.DataChange {
					t.Errorf("add %s: size=%d modificationTime=%d dataChange=%v", rel, a.Size, a.ModificationTime, a.DataChange)
				}
			}
			if records != n {
				t.Errorf("stats numRecords add up to %d, want %d", records, n)
			}
			if !seenNull {
				t.Error("no file for the null region partition")
			}
			checkParquetLayout(t, store, table, adds[0], parts)

			// Read back: same rows, the table's types.
			snap, err := table.Latest(ctx)
			if err != nil {
				t.Fatal(err)
			}
			c := cache.New(store, t.TempDir(), 0)
			if err := s.RegisterTable(ctx, "silver", "events", snap, TableFiles(table, c)); err != nil {
				t.Fatal(err)
			}
			wantTypes := []string{
				"id BIGINT", "name VARCHAR", "ts TIMESTAMP WITH TIME ZONE", "amount DECIMAL(10,2)",
				"day DATE", "region VARCHAR",
			}
			if got := columnTypes(t, s, `silver.events`); !slices.Equal(got, wantTypes) {
				t.Errorf("view columns = %q, want %q", got, wantTypes)
			}
			got := queryStrings(t, s, `SELECT * FROM silver.events`)
			want := queryStrings(t, s, `SELECT * REPLACE (CAST(ts AS TIMESTAMPTZ) AS ts) FROM (`+sourceQuery+`)`, n)
			if !slices.Equal(got, want) {
				t.Errorf("view rows differ from the query's:\n got %d rows, e.g. %q\nwant %d rows, e.g. %q", len(got), first(got), len(want), first(want))
			}
			if _, remote := store.(*mem.Store); remote && c.Stats().Downloads != int64(len(adds)) {
				t.Errorf("cache downloads = %d, want one per file (%d)", c.Stats().Downloads, len(adds))
			}
		})
	}
}

// checkParquetLayout opens one written file and checks what Delta readers rely on:
// partition columns not stored, timestamps INT64 TIMESTAMP(MICROS, UTC), bounded row
// groups, zstd.
func checkParquetLayout(t *testing.T, store lake.Store, table *lake.Table, a lake.Add, parts []string) {
	t.Helper()
	data, err := lake.ReadAll(t.Context(), store, table.Key(a.DecodedPath()))
	if err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		if _, ok := f.Schema().Lookup(p); ok {
			t.Errorf("partition column %s stored in the data file", p)
		}
	}
	ts, ok := f.Schema().Lookup("ts")
	if !ok {
		t.Fatal("no ts column in the data file")
	}
	lt := ts.Node.Type().LogicalType()
	tst, isTS := lt.Value.(*format.TimestampType)
	if !isTS || !tst.IsAdjustedToUTC || ts.Node.Type().Kind() != parquet.Int64 {
		t.Errorf("ts stored as %v %v, want INT64 TIMESTAMP(MICROS, UTC)", ts.Node.Type().Kind(), lt)
	} else if _, micros := tst.Unit.Value.(*format.MicroSeconds); !micros {
		t.Errorf("ts unit %v, want MICROS", tst.Unit.Value)
	}
	for _, rg := range f.Metadata().RowGroups {
		if rg.NumRows > RowGroupRows {
			t.Errorf("row group of %d rows, want at most %d", rg.NumRows, RowGroupRows)
		}
		if codec := rg.Columns[0].MetaData.Codec; codec != format.Zstd {
			t.Errorf("codec %v, want ZSTD", codec)
		}
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func TestWriteFilesUnpartitionedAndEmpty(t *testing.T) {
	ctx := t.Context()
	s := openSession(t)
	store := mem.New()
	q := `SELECT i AS id FROM range($1) AS t(i)`
	table := createTable(t, s, store, "gold/ids", nil, q, 0)

	adds, err := s.WriteFiles(ctx, table, nil, q, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(adds) != 0 {
		t.Errorf("empty result wrote %d files, want none", len(adds))
	}
	adds = appendQuery(t, s, table, nil, q, 1000)
	if len(adds) != 1 || len(adds[0].PartitionValues) != 0 || strings.Contains(adds[0].Path, "/") {
		t.Fatalf("adds = %+v, want one file at the table root with no partition values", adds)
	}
	var st lake.Stats
	if err := json.Unmarshal([]byte(adds[0].Stats), &st); err != nil {
		t.Fatal(err)
	}
	if st.NumRecords != 1000 || st.MinValues["id"] != float64(0) || st.MaxValues["id"] != float64(999) {
		t.Errorf("stats = %+v, want 1000 records, id in [0, 999]", st)
	}
}

func TestWriteFilesRejectsUnknownPartitionColumn(t *testing.T) {
	s := openSession(t)
	table := lake.NewTable(mem.New(), "t")
	_, err := s.WriteFiles(t.Context(), table, []string{"nope"}, `SELECT 1 AS a`)
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("err = %v, want one naming the partition column", err)
	}
}
