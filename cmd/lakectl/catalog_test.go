package main

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
)

// TestCatalogExport exports a lake and reads it with plain DuckDB, no lakectl.
func TestCatalogExport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	mustLakectl(t, "init", dir)
	mustLakectl(t, "ref", "load", "users", "-p", dir)
	file := filepath.Join(t.TempDir(), "lake.duckdb")
	if out := mustLakectl(t, "catalog", "export", file, "-p", dir); !strings.Contains(out, "1 views") {
		t.Fatalf("export: %q, want one view (only ref.users has data)", out)
	}
	// Twice: the file is replaced.
	mustLakectl(t, "catalog", "export", file, "-p", dir)
	db, err := sql.Open("duckdb", file+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, countries int
	if err := db.QueryRow("SELECT count(*), count(DISTINCT country) FROM ref.users").Scan(&n, &countries); err != nil {
		t.Fatal(err)
	}
	if n != 10000 || countries < 2 {
		t.Errorf("ref.users in the exported catalog: %d rows, %d countries; want 10000 and several", n, countries)
	}
	res := runLakectl(t, "catalog", "export", file, "-p", dir, "--lake", "s3://bucket/lake")
	if res.exitCode != 1 || !strings.Contains(res.stderr, "only a local lake can be exported") {
		t.Errorf("export of an S3 lake: %+v, want a refusal", res)
	}
}
