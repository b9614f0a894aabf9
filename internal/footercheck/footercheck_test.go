package footercheck

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
	"github.com/lakectl/lakectl/lake/parquetstats"
)

// wide is a table of every type lakectl writes, nested ones included.
var wide = lake.NewSchema(
	lake.NewField("s", lake.Primitive("string"), true),
	lake.NewField("b", lake.Primitive("binary"), true),
	lake.NewField("n", lake.Primitive("long"), true),
	lake.NewField("i", lake.Primitive("integer"), true),
	lake.NewField("x", lake.Primitive("double"), true),
	lake.NewField("ok", lake.Primitive("boolean"), true),
	lake.NewField("amount", lake.Decimal(18, 2), true),
	lake.NewField("at", lake.Primitive("timestamp"), true),
	lake.NewField("day", lake.Primitive("date"), true),
	lake.NewField("hs", lake.ArrayOf(lake.StructOf(
		lake.NewField("k", lake.Primitive("string"), true),
		lake.NewField("v", lake.Primitive("binary"), true)), true), true),
	lake.NewField("m", lake.MapOf(lake.Primitive("string"), lake.Primitive("long"), true), true),
	lake.NewField("part", lake.Primitive("integer"), true),
)

// wideSelect is a row of wide, as DuckDB writes it (part is the partition column).
const wideSelect = `SELECT 'a' AS s, 'b'::BLOB AS b, 1::BIGINT AS n, 2::INTEGER AS i, 1.5::DOUBLE AS x,
	true AS ok, 1.50::DECIMAL(18,2) AS amount, TIMESTAMPTZ '2026-11-20 08:00:00.123456+00' AS at,
	DATE '2026-11-20' AS day, [{'k': 'x', 'v': 'y'::BLOB}] AS hs, MAP {'a': 1::BIGINT} AS m`

// lakeOf commits files (name to content) as one table at root of a memory store,
// partitioned by part = 9, with the statistics parquetstats reads from each file's
// footer, as engine.WriteFiles gives them, changed by edit when it is not nil.
func lakeOf(t *testing.T, root string, files map[string][]byte, edit func(*lake.Stats)) *mem.Store {
	return lakeIn(t, root, "part=9/", files, edit)
}

// lakeIn is lakeOf with the files in directory dir.
func lakeIn(t *testing.T, root, dir string, files map[string][]byte, edit func(*lake.Stats)) *mem.Store {
	t.Helper()
	store := mem.New()
	schema, err := wide.JSON()
	if err != nil {
		t.Fatal(err)
	}
	tbl := lake.NewTable(store, root)
	tx := tbl.Begin(nil)
	tx.SetMetadata(lake.Metadata{ID: "t", Format: lake.Format{Provider: "parquet", Options: map[string]string{}},
		SchemaString: schema, PartitionColumns: []string{"part"}, Configuration: map[string]string{}})
	nine := "9"
	for name, data := range files {
		rel := dir + name
		if err := store.Put(t.Context(), tbl.Key(rel), bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
		st, err := parquetstats.Read(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			edit(&st)
		}
		stats, err := parquetstats.JSON(st)
		if err != nil {
			t.Fatal(err)
		}
		tx.Add(lake.Add{Path: rel, PartitionValues: map[string]*string{"part": &nine}, Size: int64(len(data)),
			ModificationTime: time.Now().UnixMilli(), DataChange: true, Stats: stats})
	}
	if _, err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	return store
}

// duckFile writes the result of query as a Parquet file with DuckDB.
func duckFile(t *testing.T, query string) []byte {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p := filepath.Join(t.TempDir(), "f.parquet")
	if _, err := db.Exec("SET TimeZone = 'UTC'"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("COPY (" + query + ") TO '" + p + "' (FORMAT parquet)"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

type narrow struct {
	S string `parquet:"s"`
}

// reusedWriterFile is the second file of a parquet-go writer that was Reset after
// its first: the way Bronze wrote 49 of 50 files before each file got a new writer.
func reusedWriterFile(t *testing.T) []byte {
	t.Helper()
	var first, second bytes.Buffer
	w := parquet.NewGenericWriter[narrow](&first)
	if _, err := w.Write([]narrow{{S: "a"}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w.Reset(&second)
	if _, err := w.Write([]narrow{{S: "b"}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return second.Bytes()
}

func TestLake(t *testing.T) {
	good := duckFile(t, wideSelect)
	long := strings.Repeat("x", 40)
	cases := []struct {
		name  string
		file  []byte
		edit  func(*lake.Stats)
		wants []string // substrings of the problems, one each; none for a good file
	}{
		{name: "every type as DuckDB writes it", file: good},
		{name: "numRecords not the footer's", file: good, edit: func(s *lake.Stats) { s.NumRecords = 2 },
			wants: []string{"footer holds 1 rows, the log's numRecords is 2"}},
		{name: "naive timestamp", file: duckFile(t, strings.Replace(wideSelect, "TIMESTAMPTZ '2026-11-20 08:00:00.123456+00'", "TIMESTAMP '2026-11-20 08:00:00'", 1)),
			wants: []string{"at: Delta timestamp wants INT64 TIMESTAMP_MICROS"}},
		{name: "string stored as binary", file: duckFile(t, strings.Replace(wideSelect, "'a' AS s", "'a'::BLOB AS s", 1)),
			// and, read as binary, it gets no bounds
			wants: []string{"s: Delta string wants BYTE_ARRAY UTF8", "stats: minValues.s is absent", "stats: maxValues.s is absent"}},
		{name: "decimal of another scale", file: duckFile(t, strings.Replace(wideSelect, "DECIMAL(18,2)", "DECIMAL(18,3)", 1)),
			wants: []string{"amount: Delta decimal(18,2) wants DECIMAL(18,2)"}},
		{name: "partition column in the file", file: duckFile(t, wideSelect+", 9 AS part"),
			wants: []string{"column part is in the file but not a data column"}},
		{name: "timestamp maximum rounded up to the millisecond", file: good,
			edit:  func(s *lake.Stats) { s.MaxValues["at"] = "2026-11-20T08:00:00.124Z" },
			wants: []string{"stats: maxValues.at is 2026-11-20T08:00:00.124Z, the file's maximum is 2026-11-20T08:00:00.123456Z"}},
		{name: "null count off", file: good, edit: func(s *lake.Stats) { s.NullCount["n"] = 1 },
			wants: []string{"stats: nullCount.n is 1, the file has 0 nulls"}},
		{name: "decimal bound of another value", file: good, edit: func(s *lake.Stats) { s.MinValues["amount"] = json.Number("1.49") },
			wants: []string{"stats: minValues.amount is 1.49, the file's minimum is 1.50"}},
		{name: "long string cut as the protocol allows", file: duckFile(t, strings.Replace(wideSelect, "'a' AS s", "'"+long+"' AS s", 1))},
		{name: "long string maximum given", file: duckFile(t, strings.Replace(wideSelect, "'a' AS s", "'"+long+"' AS s", 1)),
			edit:  func(s *lake.Stats) { s.MaxValues["s"] = long },
			wants: []string{"stats: maxValues.s is " + long + ", the file's maximum is (absent: longer than the prefix)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := lakeOf(t, "silver/t", map[string][]byte{"f.parquet": c.file}, c.edit)
			rep, err := Lake(t.Context(), store, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rep.Tables, []string{"silver/t"}) || rep.Files != 1 {
				t.Errorf("checked tables %v, %d files; want silver/t, 1 file", rep.Tables, rep.Files)
			}
			var got []string
			for _, p := range rep.Problems {
				got = append(got, p.What)
			}
			if len(got) != len(c.wants) {
				t.Fatalf("problems %q, want %d: %q", got, len(c.wants), c.wants)
			}
			for i, w := range c.wants {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %q, want one containing %q", got[i], w)
				}
			}
		})
	}
}

// A file whose column chunks lost their path_in_schema fails, however its schema
// reads.
func TestLakeEmptyColumnPath(t *testing.T) {
	store := mem.New()
	tbl := lake.NewTable(store, "bronze/x")
	schema, _ := lake.NewSchema(lake.NewField("s", lake.Primitive("string"), false)).JSON()
	tx := tbl.Begin(nil)
	tx.SetMetadata(lake.Metadata{ID: "t", Format: lake.Format{Provider: "parquet", Options: map[string]string{}},
		SchemaString: schema, PartitionColumns: []string{}, Configuration: map[string]string{}})
	data := reusedWriterFile(t)
	store.Put(t.Context(), tbl.Key("f.parquet"), bytes.NewReader(data), int64(len(data)))
	tx.Add(lake.Add{Path: "f.parquet", PartitionValues: map[string]*string{}, Size: int64(len(data)), DataChange: true, Stats: `{"numRecords":1}`})
	if _, err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	rep, err := Lake(t.Context(), store, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range rep.Problems {
		found = found || strings.Contains(p.What, "a column chunk with an empty path_in_schema")
	}
	if !found {
		t.Errorf("problems %v, want the empty path_in_schema found", rep.Problems)
	}
}

// A file whose directory names other partition values than the log's fails: the
// path a Hive-partitioning reader sees must say what the log says.
func TestLakePartitionPath(t *testing.T) {
	good := duckFile(t, wideSelect)
	for dir, want := range map[string]string{
		"part=9/":  "",
		"part=09/": `its directory is not "part=9", the one its partition values {part="9"} name`,
		"":         `its directory is not "part=9"`,
	} {
		store := lakeIn(t, "t", dir, map[string][]byte{"f.parquet": good}, nil)
		rep, err := Lake(t.Context(), store, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case want == "" && len(rep.Problems) > 0:
			t.Errorf("%q: problems %v, want none", dir, rep.Problems)
		case want != "" && (len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].What, want)):
			t.Errorf("%q: problems %v, want one: %s", dir, rep.Problems, want)
		}
	}
}
