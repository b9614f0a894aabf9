package engine

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/internal/golden"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
	lakefs "github.com/lakectl/lakectl/lake/fs"
	"github.com/lakectl/lakectl/lake/mem"
	"github.com/lakectl/lakectl/lake/parquetstats"
)

// The golden tables written by Spark and delta-rs register and read back with the rows
// their log and footers describe, partition values taken from the log.
func TestRegisterGoldenTables(t *testing.T) {
	dir := golden.DeltaDir(t)
	var tested []string
	for _, name := range golden.DeltaTables(t) {
		want := golden.LoadDeltaExpected(t, name)
		if !dataFilesPresent(filepath.Join(dir, name), want) {
			continue // some golden tables ship their log only
		}
		tested = append(tested, name)
		wantGroups := expectedGroups(t, filepath.Join(dir, name), want)
		for _, via := range []string{"fs", "mem+cache"} {
			t.Run(name+"/"+via, func(t *testing.T) {
				ctx := t.Context()
				var store lake.Store
				if via == "fs" {
					st, err := lakefs.New(filepath.Join(dir, name))
					if err != nil {
						t.Fatal(err)
					}
					store = st
				} else {
					store = copyToMem(t, filepath.Join(dir, name))
				}
				table := lake.NewTable(store, "")
				snap, err := table.Latest(ctx)
				if err != nil {
					t.Fatal(err)
				}
				s := openSession(t)
				c := cache.New(store, t.TempDir(), 0)
				if err := s.RegisterTable(ctx, "golden", "t", snap, TableFiles(table, c)); err != nil {
					t.Fatal(err)
				}

				// Partition columns have their Delta types, not the VARCHAR of a path.
				schema, err := snap.Schema()
				if err != nil {
					t.Fatal(err)
				}
				types := columnTypes(t, s, "golden.t")
				for _, p := range want.PartitionColumns {
					f, _ := schema.Field(p)
					dt, _ := DuckType(f.DataType)
					wantType := p + " " + strings.Replace(dt.String(), "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE", 1)
					if !slices.Contains(types, wantType) {
						t.Errorf("view columns %q lack %q", types, wantType)
					}
				}

				sel := []string{}
				for _, p := range want.PartitionColumns {
					sel = append(sel, sqlfrag.Fmt("CAST(%s AS VARCHAR)", sqlfrag.Ident(p)).String())
				}
				sel = append(sel, "count(*)")
				got := queryStrings(t, s, "SELECT "+strings.Join(sel, ", ")+" FROM golden.t GROUP BY ALL")
				if !slices.Equal(got, wantGroups) {
					t.Errorf("rows per partition = %q, want %q", got, wantGroups)
				}
			})
		}
	}
	for _, must := range []string{"delta-0.8.0-partitioned", "delta-0.8.0-null-partition", "delta-2.2.0-partitioned-types", "delta-0.8-empty"} {
		if !slices.Contains(tested, must) {
			t.Errorf("golden table %s was not tested (tested: %q)", must, tested)
		}
	}
}

func dataFilesPresent(tableDir string, want golden.DeltaExpected) bool {
	for _, f := range want.Files {
		if _, err := os.Stat(filepath.Join(tableDir, filepath.FromSlash(f.Path))); err != nil {
			return false
		}
	}
	return true
}

// expectedGroups gives, per partition value tuple, the number of rows in the expected
// files: numRecords where the log has stats, the Parquet footer's count where not.
func expectedGroups(t *testing.T, tableDir string, want golden.DeltaExpected) []string {
	t.Helper()
	counts := map[string]int64{}
	for _, f := range want.Files {
		var n int64
		if f.NumRecords != nil {
			n = *f.NumRecords
		} else {
			st, err := parquetstats.ReadFile(filepath.Join(tableDir, filepath.FromSlash(f.Path)))
			if err != nil {
				t.Fatal(err)
			}
			n = st.NumRecords
		}
		var key []string
		for _, p := range want.PartitionColumns {
			if v := f.PartitionValues[p]; v == nil {
				key = append(key, "<null>")
			} else {
				key = append(key, *v)
			}
		}
		counts[strings.Join(key, "|")] += n
	}
	if len(want.PartitionColumns) == 0 {
		return []string{fmt.Sprint(counts[""])} // an ungrouped count(*): one row, even 0
	}
	var out []string
	for k, n := range counts {
		if n > 0 { // a group of empty files has no row to count
			out = append(out, k+"|"+fmt.Sprint(n))
		}
	}
	sort.Strings(out)
	return out
}

// copyToMem loads a table directory into a mem store, so it is read through the cache.
func copyToMem(t *testing.T, dir string) *mem.Store {
	t.Helper()
	st := mem.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		return st.Put(t.Context(), filepath.ToSlash(rel), bytes.NewReader(data), int64(len(data)))
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

type event struct {
	ID    int64     `parquet:"id"`
	At    time.Time `parquet:"at,timestamp(microsecond:utc)"`
	Name  string    `parquet:"name"`
	Score float64   `parquet:"score"`
}

// A file written by Go code (as Bronze does) with a UTC microsecond timestamp reads
// back through the view as TIMESTAMPTZ with the same instants.
func TestRegisterParquetGoWrittenTable(t *testing.T) {
	ctx := t.Context()
	store := mem.New()
	schema := lake.NewSchema(
		lake.NewField("id", lake.Primitive("long"), false),
		lake.NewField("at", lake.Primitive("timestamp"), false),
		lake.NewField("name", lake.Primitive("string"), false),
		lake.NewField("score", lake.Primitive("double"), false),
		lake.NewField("ingest_date", lake.Primitive("date"), true),
	)
	table := newTable(t, store, "bronze/events", schema, "ingest_date")

	base := time.Date(2026, 11, 21, 23, 59, 59, 999_999_000, time.UTC)
	var rows []event
	for i := range 50 {
		rows = append(rows, event{
			ID:    int64(i),
			At:    base.Add(time.Duration(i) * 1234567 * time.Microsecond),
			Name:  fmt.Sprintf("e%02d", i),
			Score: float64(i) / 4,
		})
	}
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[event](&buf, parquet.MaxRowsPerRowGroup(16))
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := parquetstats.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	stats, err := parquetstats.JSON(st)
	if err != nil {
		t.Fatal(err)
	}
	rel := "ingest_date=2026-11-21/part-0.parquet"
	if err := store.Put(ctx, table.Key(rel), bytes.NewReader(buf.Bytes()), int64(buf.Len())); err != nil {
		t.Fatal(err)
	}
	day := "2026-11-21"
	commitAdds(t, table, lake.Add{Path: rel, PartitionValues: map[string]*string{"ingest_date": &day},
		Size: int64(buf.Len()), ModificationTime: time.Now().UnixMilli(), DataChange: true, Stats: stats})

	s := openSession(t)
	snap, err := table.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterTable(ctx, "bronze", "events", snap, TableFiles(table, cache.New(store, t.TempDir(), 0))); err != nil {
		t.Fatal(err)
	}
	wantTypes := []string{"id BIGINT", "at TIMESTAMP WITH TIME ZONE", "name VARCHAR", "score DOUBLE", "ingest_date DATE"}
	if got := columnTypes(t, s, "bronze.events"); !slices.Equal(got, wantTypes) {
		t.Errorf("view columns = %q, want %q", got, wantTypes)
	}
	res, err := s.QueryContext(ctx, `SELECT id, "at", name, score, ingest_date FROM bronze.events ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	i := 0
	for ; res.Next(); i++ {
		var got event
		var d time.Time
		if err := res.Scan(&got.ID, &got.At, &got.Name, &got.Score, &d); err != nil {
			t.Fatal(err)
		}
		want := rows[i]
		if got.ID != want.ID || !got.At.Equal(want.At) || got.At.Location() != time.UTC || got.Name != want.Name || got.Score != want.Score {
			t.Errorf("row %d = %+v (%v), want %+v", i, got, got.At.Location(), want)
		}
		if d.Format(time.DateOnly) != day {
			t.Errorf("row %d ingest_date = %v, want %s", i, d, day)
		}
	}
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	if i != len(rows) {
		t.Errorf("read %d rows, want %d", i, len(rows))
	}
}

// Files written before a column was added read it as NULL.
func TestRegisterEvolvedSchema(t *testing.T) {
	for _, sc := range storeCases {
		t.Run(sc.name, func(t *testing.T) {
			ctx := t.Context()
			s := openSession(t)
			store := sc.store(t)
			oldQ := `SELECT i AS id, 'p' || (i % 2) AS part FROM range(3) AS t(i)`
			table := createTable(t, s, store, "t", []string{"part"}, oldQ)
			appendQuery(t, s, table, []string{"part"}, oldQ)

			newQ := `SELECT 10 + i AS id, 'p' || (i % 2) AS part, 'v' || i AS note FROM range(2) AS t(i)`
			newSchema, err := s.QuerySchema(ctx, newQ)
			if err != nil {
				t.Fatal(err)
			}
			ss, _ := newSchema.JSON()
			snap, _ := table.Latest(ctx)
			adds, err := s.WriteFiles(ctx, table, []string{"part"}, newQ)
			if err != nil {
				t.Fatal(err)
			}
			tx := table.Begin(snap)
			tx.SetMetadata(lake.Metadata{SchemaString: ss, PartitionColumns: []string{"part"}})
			tx.Add(adds...)
			if _, err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}

			snap, err = table.Latest(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.RegisterTable(ctx, "main", "t", snap, TableFiles(table, cache.New(store, t.TempDir(), 0))); err != nil {
				t.Fatal(err)
			}
			got := queryStrings(t, s, `SELECT id, part, note FROM main.t`)
			want := queryStrings(t, s, `SELECT id, part, NULL AS note FROM (`+oldQ+`) UNION ALL `+newQ)
			if !slices.Equal(got, want) {
				t.Errorf("rows = %q, want %q", got, want)
			}

			// A column that no file has yet reads as NULL too.
			wider := lake.NewSchema(append(newSchema.Fields, lake.NewField("later", lake.Decimal(9, 3), true))...)
			ws, _ := wider.JSON()
			tx = table.Begin(snap)
			tx.SetMetadata(lake.Metadata{SchemaString: ws, PartitionColumns: []string{"part"}})
			if _, err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			snap, _ = table.Latest(ctx)
			if err := s.RegisterTable(ctx, "main", "t", snap, TableFiles(table, cache.New(store, t.TempDir(), 0))); err != nil {
				t.Fatal(err)
			}
			got = queryStrings(t, s, `SELECT count(*), count(later), any_value(typeof(later)) FROM main.t`)
			if want := []string{"5|0|DECIMAL(9,3)"}; !slices.Equal(got, want) {
				t.Errorf("later column: %q, want %q", got, want)
			}
		})
	}
}

// A table without files is an empty view with the schema's columns and types.
func TestRegisterEmptyTable(t *testing.T) {
	ctx := t.Context()
	store := mem.New()
	schema := lake.NewSchema(
		lake.NewField("id", lake.Primitive("long"), false),
		lake.NewField("price", lake.Decimal(18, 2), true),
		lake.NewField("at", lake.Primitive("timestamp"), true),
		lake.NewField("tags", lake.ArrayOf(lake.Primitive("string"), true), true),
		lake.NewField("attrs", lake.MapOf(lake.Primitive("string"), lake.Primitive("long"), true), true),
		lake.NewField("geo", lake.StructOf(lake.NewField("lat", lake.Primitive("double"), true)), true),
		lake.NewField("day", lake.Primitive("date"), true),
	)
	table := newTable(t, store, "gold/empty", schema, "day")
	snap, err := table.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := openSession(t)
	if err := s.RegisterTable(ctx, "gold", "empty", snap, TableFiles(table, cache.New(store, t.TempDir(), 0))); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"id BIGINT", "price DECIMAL(18,2)", "at TIMESTAMP WITH TIME ZONE", "tags VARCHAR[]",
		"attrs MAP(VARCHAR, BIGINT)", "geo STRUCT(lat DOUBLE)", "day DATE",
	}
	if got := columnTypes(t, s, "gold.empty"); !slices.Equal(got, want) {
		t.Errorf("columns = %q, want %q", got, want)
	}
	if got := queryStrings(t, s, "SELECT count(*) FROM gold.empty"); !slices.Equal(got, []string{"0"}) {
		t.Errorf("count = %q, want 0", got)
	}
}

func newTable(t *testing.T, store lake.Store, root string, schema *lake.Schema, parts ...string) *lake.Table {
	t.Helper()
	ss, err := schema.JSON()
	if err != nil {
		t.Fatal(err)
	}
	table := lake.NewTable(store, root)
	tx := table.Begin(nil)
	tx.SetMetadata(lake.Metadata{SchemaString: ss, PartitionColumns: parts})
	if _, err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	return table
}

func commitAdds(t *testing.T, table *lake.Table, adds ...lake.Add) {
	t.Helper()
	snap, err := table.Latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	tx := table.Begin(snap)
	tx.Add(adds...)
	if _, err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// Where every file's statistics name exactly the table's columns, the view takes the
// columns from the log and DuckDB binds it to the first file's footer alone, mapping
// each other file's columns by name; where DuckDB then binds other types than the
// log's, the view reads every file's schema and casts.
func TestRegisterColumnsFromTheLog(t *testing.T) {
	ctx := t.Context()
	s := openSession(t)
	store := mem.New()
	parts := []string{"part"}
	q := `SELECT i AS id, 'p' || (i % 2) AS part, 'n' || i AS name FROM range(4) AS t(i)`
	table := createTable(t, s, store, "t", parts, q)
	appendQuery(t, s, table, parts, q)
	// The same columns in another order.
	appendQuery(t, s, table, parts, `SELECT 'm' || i AS name, 'p' || (i % 2) AS part, 10 + i AS id FROM range(2) AS t(i)`)
	register := func() {
		t.Helper()
		snap, err := table.Latest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RegisterTable(ctx, "main", "t", snap, TableFiles(table, cache.New(store, t.TempDir(), 0))); err != nil {
			t.Fatal(err)
		}
	}
	viewSQL := func() string {
		t.Helper()
		var sql string
		if err := s.QueryRowContext(ctx, "SELECT sql FROM duckdb_views() WHERE schema_name = 'main' AND view_name = 't'").Scan(&sql); err != nil {
			t.Fatal(err)
		}
		return sql
	}
	register()
	// DuckDB keeps the view's SQL with its constants as casts.
	const byName, byFirst = "union_by_name = CAST('t' AS BOOLEAN)", "union_by_name = CAST('f' AS BOOLEAN)"
	if v := viewSQL(); !strings.Contains(v, byFirst) || strings.Contains(v, byName) {
		t.Errorf("view over files of the log's columns reads every footer: %s", v)
	}
	got := queryStrings(t, s, "SELECT id, part, name FROM main.t ORDER BY id")
	want := queryStrings(t, s, "SELECT * FROM ("+q+") UNION ALL SELECT 10 + i, 'p' || (i % 2), 'm' || i FROM range(2) AS t(i) ORDER BY id")
	if !slices.Equal(got, want) {
		t.Errorf("rows = %q, want %q", got, want)
	}

	// A file that holds id as INTEGER, for the log's long, and one with a long that
	// INTEGER cannot hold: whichever DuckDB binds to, the view is the log's.
	snap, _ := table.Latest(ctx)
	narrow, err := s.WriteFiles(ctx, table, parts, `SELECT CAST(20 AS INTEGER) AS id, 'p0' AS part, 'x' AS name`)
	if err != nil {
		t.Fatal(err)
	}
	wide, err := s.WriteFiles(ctx, table, parts, `SELECT CAST(5000000000 AS BIGINT) AS id, 'p1' AS part, 'y' AS name`)
	if err != nil {
		t.Fatal(err)
	}
	tx := table.Begin(snap)
	tx.Add(append(narrow, wide...)...)
	if _, err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	register()
	got = queryStrings(t, s, "SELECT typeof(id), id, name FROM main.t WHERE id >= 20 ORDER BY id")
	if want := []string{"BIGINT|20|x", "BIGINT|5000000000|y"}; !slices.Equal(got, want) {
		t.Errorf("rows = %q, want %q", got, want)
	}
	// Only the INTEGER file: DuckDB binds to it, and the view must not.
	snap, _ = table.Latest(ctx)
	tx = table.Begin(snap)
	for _, a := range snap.Files() {
		if a.Path != narrow[0].Path {
			tx.Remove(a.RemoveAt(time.Now()))
		}
	}
	if _, err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	register()
	if got := columnTypes(t, s, "main.t"); !slices.Equal(got, []string{"id BIGINT", "part VARCHAR", "name VARCHAR"}) {
		t.Errorf("view columns = %q", got)
	}
	if v := viewSQL(); !strings.Contains(v, byName) {
		t.Errorf("view over a file of other types than the log's does not read the files' schemas: %s", v)
	}
}
