package engine

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
	lakefs "github.com/lakectl/lakectl/lake/fs"
)

// A view reads the log's partition values whichever way it gets them: from the
// directories of files whose paths say exactly the log's values (DuckDB's Hive
// partitioning), through the join with the log's values for the others. Its rows are
// those of the join over every file, for tables whose paths all agree, all disagree,
// or both, with null, empty, escaped, "NULL" and zero-padded values.
func TestRegisterPartitionValuesFromPaths(t *testing.T) {
	ctx := t.Context()
	s := openSession(t)
	str := func(v string) *string { return &v }
	parts := []string{"day", "hour", "region"}
	files := []struct {
		dir    string // below the table root
		values map[string]*string
		read   string // on a local store: from its "path", from a "link", by "join"
	}{
		{"", map[string]*string{"day": str("2026-11-20"), "hour": str("9"), "region": str("eu/west=1")}, "path"},
		{"day=2026-11-20/hour=09/region=us", map[string]*string{"day": str("2026-11-20"), "hour": str("9"), "region": str("us")}, "link"}, // Bronze before PartitionDir
		{"", map[string]*string{"day": nil, "hour": str("10"), "region": str(`q'uo"te 100%`)}, "path"},
		{"", map[string]*string{"day": str("2026-11-21"), "hour": str("0"), "region": str("")}, "join"},             // "" is a null partition; DuckDB reads ""
		{"", map[string]*string{"day": str("2026-11-21"), "hour": nil, "region": str("NULL")}, "join"},              // DuckDB reads NULL
		{"elsewhere", map[string]*string{"day": str("2026-11-22"), "hour": str("23"), "region": str("ap")}, "link"}, // another writer's layout
		{"", map[string]*string{"day": str("2026-11-22"), "hour": str("-1"), "region": str("a:b")}, "path"},
		{"", map[string]*string{"day": str("2026-11-23"), "hour": str("1"), "region": str("eu")}, "path"}, // its name has an '=' (fileName), which DuckDB does not read
	}
	schema := lake.NewSchema(
		lake.NewField("id", lake.Primitive("long"), false),
		lake.NewField("day", lake.Primitive("date"), true),
		lake.NewField("hour", lake.Primitive("integer"), true),
		lake.NewField("region", lake.Primitive("string"), true),
	)
	store, err := lakefs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	table := newTable(t, store, "silver/parts", schema, parts...)
	var adds []lake.Add
	for i, f := range files {
		dir := f.dir
		if dir == "" {
			dir = lake.PartitionDir(parts, f.values)
		}
		rel := dir + "/" + fileName(i)
		local := store.LocalPath(table.Key(rel))
		if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
			t.Fatal(err)
		}
		copyQ := sqlfrag.Fmt("COPY (SELECT %s * 10 + i AS id FROM range(3) AS r(i)) TO %s (FORMAT parquet)", sqlfrag.Int(int64(i)), sqlfrag.Str(local))
		if _, err := s.ExecContext(ctx, copyQ.String()); err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(local)
		if err != nil {
			t.Fatal(err)
		}
		adds = append(adds, lake.Add{Path: lake.EncodePath(rel), PartitionValues: f.values, Size: info.Size(),
			ModificationTime: time.Now().UnixMilli(), DataChange: true})
	}
	commitAdds(t, table, adds...)
	snap, err := table.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	adds = snap.Files()
	byPath := map[string]string{}
	for i, f := range files {
		dir := f.dir
		if dir == "" {
			dir = lake.PartitionDir(parts, f.values)
		}
		byPath[dir+"/"+fileName(i)] = f.read
	}

	// queryStrings orders the rows as strings.
	const rowsQ = "SELECT id, day, hour, region FROM main.parts"
	// The rows through the log's join alone, for the files adds.
	joinRows := func(t *testing.T, adds []lake.Add) []string {
		t.Helper()
		tschema, _ := snap.Schema()
		cols, err := viewColumns(tschema, parts)
		if err != nil {
			t.Fatal(err)
		}
		paths := make([]string, len(adds))
		for i, a := range adds {
			paths[i] = store.LocalPath(table.Key(a.DecodedPath()))
		}
		present := map[string]string{"id": "BIGINT"}
		return queryStrings(t, s, "SELECT id, day, hour, region FROM ("+filesSelect(cols, paths, adds, present, nil, false).String()+")")
	}
	agreeing := slices.DeleteFunc(slices.Clone(adds), func(a lake.Add) bool { return byPath[a.DecodedPath()] != "path" })
	disagreeing := slices.DeleteFunc(slices.Clone(adds), func(a lake.Add) bool { return byPath[a.DecodedPath()] == "path" })
	for _, c := range []struct {
		name  string
		adds  []lake.Add
		store lake.Store
	}{
		{"agreeing", agreeing, nil},
		{"disagreeing", disagreeing, nil},
		{"mixed", adds, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := s.RegisterFiles(ctx, "main", "parts", snap, c.adds, TableFiles(table, cache.New(store, t.TempDir(), 0))); err != nil {
				t.Fatal(err)
			}
			got := queryStrings(t, s, rowsQ)
			if want := joinRows(t, c.adds); !slices.Equal(got, want) || len(got) != 3*len(c.adds) {
				t.Errorf("rows = %q\nwant %q", got, want)
			}
		})
	}

	// Which files were read how: the same on the local store and from the cache of a
	// remote one, whose files sit below the same partition directories as the store's.
	tschema, _ := snap.Schema()
	cols, _ := viewColumns(tschema, parts)
	paths := make([]string, len(adds))
	for i, a := range adds {
		paths[i] = store.LocalPath(table.Key(a.DecodedPath()))
	}
	remote := copyToMem(t, store.LocalPath(""))
	remoteTable := lake.NewTable(remote, "silver/parts")
	remotePaths, release, err := resolveAll(ctx, adds, TableFiles(remoteTable, cache.New(remote, t.TempDir(), 0)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	for _, st := range []struct {
		name  string
		paths []string
	}{{"local", paths}, {"cache", remotePaths}} {
		hive, unlink := s.hivePaths(cols, st.paths, adds, map[string]string{"id": "BIGINT"})
		for i, a := range adds {
			read := "join"
			switch fi, err := os.Lstat(hive[i]); {
			case hive[i] == "":
			case err != nil:
				t.Errorf("%s %s: %v", st.name, a.DecodedPath(), err)
			case hive[i] == st.paths[i]:
				read = "path"
			case fi.Mode()&os.ModeSymlink != 0:
				read = "link"
			}
			if want := byPath[a.DecodedPath()]; read != want {
				t.Errorf("%s %s: read by %s, want %s", st.name, a.DecodedPath(), read, byPath[a.DecodedPath()])
			}
		}
		unlink()
	}

	// Through the sandbox, from the cache.
	sealed := openSession(t)
	if err := sealed.RegisterTable(ctx, "main", "parts", snap, TableFiles(remoteTable, cache.New(remote, t.TempDir(), 0))); err != nil {
		t.Fatal(err)
	}
	if err := sealed.Seal(ctx, SealOptions{}); err != nil {
		t.Fatal(err)
	}
	uq, err := sealed.ParseUserSQL(ctx, "SELECT id, CAST(day AS VARCHAR), CAST(hour AS VARCHAR), region FROM main.parts")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := sealed.QueryUser(ctx, uq)
	if err != nil {
		t.Fatal(err)
	}
	var sealedRows []string
	for rows.Next() {
		var id int64
		var day, hour, region sql.NullString
		if err := rows.Scan(&id, &day, &hour, &region); err != nil {
			t.Fatal(err)
		}
		sealedRows = append(sealedRows, fmt.Sprintf("%d|%s|%s|%s", id, nullStr(day), nullStr(hour), nullStr(region)))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	slices.Sort(sealedRows)

	if err := s.RegisterTable(ctx, "main", "parts", snap, TableFiles(table, cache.New(store, t.TempDir(), 0))); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"0|2026-11-20|9|eu/west=1", "1|2026-11-20|9|eu/west=1", "2|2026-11-20|9|eu/west=1",
		"10|2026-11-20|9|us", "11|2026-11-20|9|us", "12|2026-11-20|9|us",
		"20|<null>|10|q'uo\"te 100%", "21|<null>|10|q'uo\"te 100%", "22|<null>|10|q'uo\"te 100%",
		"30|2026-11-21|0|<null>", "31|2026-11-21|0|<null>", "32|2026-11-21|0|<null>",
		"40|2026-11-21|<null>|NULL", "41|2026-11-21|<null>|NULL", "42|2026-11-21|<null>|NULL",
		"50|2026-11-22|23|ap", "51|2026-11-22|23|ap", "52|2026-11-22|23|ap",
		"60|2026-11-22|-1|a:b", "61|2026-11-22|-1|a:b", "62|2026-11-22|-1|a:b",
		"70|2026-11-23|1|eu", "71|2026-11-23|1|eu", "72|2026-11-23|1|eu",
	}
	// Replacing a view removes the links of the one it replaces.
	if err := s.RegisterTable(ctx, "main", "parts", snap, TableFiles(table, cache.New(store, t.TempDir(), 0))); err != nil {
		t.Fatal(err)
	}
	if des, err := os.ReadDir(s.linkDir); err != nil || len(des) != 1 {
		t.Errorf("link directories after a view was replaced: %d (%v), want 1", len(des), err)
	}
	slices.Sort(want)
	if got := queryStrings(t, s, rowsQ); !slices.Equal(got, want) {
		t.Errorf("rows = %q\nwant %q", got, want)
	}
	if !slices.Equal(sealedRows, want) {
		t.Errorf("rows from the cache, sealed = %q\nwant %q", sealedRows, want)
	}
	if got := queryStrings(t, s, "SELECT count(*) FROM main.parts WHERE region = 'NULL'"); !slices.Equal(got, []string{"3"}) {
		t.Errorf("rows whose region is the string NULL: %q, want 3", got)
	}
}

// fileName is the name of the i-th file of TestRegisterPartitionValuesFromPaths; the
// last has an '=' in it, which DuckDB does not take for a partition: only directories.
func fileName(i int) string {
	if i == 7 {
		return "region=us.parquet"
	}
	return "part-" + string(rune('a'+i)) + ".parquet"
}

func nullStr(s sql.NullString) string {
	if !s.Valid {
		return "<null>"
	}
	return s.String
}
