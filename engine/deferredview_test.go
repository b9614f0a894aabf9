package engine

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/lake"
	lakefs "github.com/lakectl/lakectl/lake/fs"
)

// TestDeferredView: a deferred view over s3:// URLs is created in a DuckDB without
// httpfs, through its stub, with the columns that ViewSQL's view over the files has,
// and it reads the files named by the variable, partition values included.
func TestDeferredView(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	store, err := lakefs.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := Open(ctx, Config{Threads: 1, MemoryLimit: "256MiB"})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	const rows = `SELECT DATE '2026-11-01' + CAST($1 AS INTEGER) AS day, CAST(i AS BIGINT) AS n,
		CAST(i / 100 AS DECIMAL(18,2)) AS amount, TIMESTAMPTZ '2026-11-01 08:00:00+00' AS at,
		{'k': 'v' || i, 'x': i} AS s, ['a', 'b'] AS tags FROM range(3) AS r(i)`
	schema, err := sess.QuerySchema(ctx, rows, 0)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := schema.JSON()
	table := lake.NewTable(store, "silver/events")
	tx := table.Begin(nil)
	tx.SetMetadata(lake.Metadata{SchemaString: js, PartitionColumns: []string{"day"}})
	for day := range 2 {
		adds, err := sess.WriteFiles(ctx, table, []string{"day"}, rows, day)
		if err != nil {
			t.Fatal(err)
		}
		tx.Add(adds...)
	}
	if _, err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	snap, err := table.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var urls, local []string
	for _, a := range snap.Files() {
		urls = append(urls, "s3://bucket/lake/silver/events/"+a.DecodedPath())
		local = append(local, filepath.Join(dir, "silver", "events", filepath.FromSlash(a.DecodedPath())))
	}
	dv, err := DeferredViewSQL(snap, urls)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := ViewSQL(snap, local)
	if err != nil {
		t.Fatal(err)
	}

	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // variables belong to a connection
	stub := filepath.Join(t.TempDir(), "stub.parquet")
	variable := sqlfrag.Ident(ExportFilesVariable)
	for _, st := range []string{
		"SET autoload_known_extensions = false",
		sqlfrag.Fmt("COPY (%s) TO %s (FORMAT parquet)", dv.Stub, sqlfrag.Str(stub)).String(),
		sqlfrag.Fmt("SET VARIABLE %s = %s", variable, sqlfrag.StrList([]string{stub})).String(),
		"CREATE VIEW deferred AS " + dv.SQL,
		sqlfrag.Fmt("RESET VARIABLE %s", variable).String(),
		"CREATE VIEW plain AS " + plain,
	} {
		if _, err := db.Exec(st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	columns := func(view string) string {
		var cols string
		if err := db.QueryRow("SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY column_index) FROM duckdb_columns() WHERE table_name = ?", view).Scan(&cols); err != nil {
			t.Fatal(err)
		}
		return cols
	}
	if got, want := columns("deferred"), columns("plain"); got != want {
		t.Errorf("columns of the deferred view: %s\nwant the plain view's: %s", got, want)
	}
	if !strings.Contains(dv.SQL, urls[0]) {
		t.Errorf("deferred view: %s\nwant it over %s", dv.SQL, urls[0])
	}
	if _, err := db.Exec("SELECT * FROM deferred"); err == nil || !strings.Contains(err.Error(), "httpfs") {
		t.Errorf("deferred view without httpfs: %v, want DuckDB to ask for httpfs", err)
	}
	if _, err := db.Exec(sqlfrag.Fmt("SET VARIABLE %s = %s", variable, sqlfrag.StrList(local)).String()); err != nil {
		t.Fatal(err)
	}
	const check = "SELECT count(*), count(DISTINCT day), sum(amount)::VARCHAR, min(s.k), max(len(tags)) FROM "
	var got, want [5]any
	if err := db.QueryRow(check+"deferred").Scan(&got[0], &got[1], &got[2], &got[3], &got[4]); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(check+"plain").Scan(&want[0], &want[1], &want[2], &want[3], &want[4]); err != nil {
		t.Fatal(err)
	}
	if got != want || want[0] != int64(6) || want[1] != int64(2) {
		t.Errorf("deferred view over its files: %v, want the plain view's %v (6 rows, 2 days)", got, want)
	}
}
