package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/internal/s3server"
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
}

// TestCatalogExportS3 exports an S3 lake (versitygw), which lakectl's DuckDB cannot
// read (no httpfs), into views that name the s3:// URLs of the files and have the
// columns of the local lake's export; the analyst's DuckDB reads exactly those files.
func TestCatalogExportS3(t *testing.T) {
	srv := s3server.Start(t, s3server.VersityGW)
	dir := t.TempDir()
	files := map[string]string{
		"lakectl.yaml": "reference:\n  users: {file: users.csv}\n",
		"users.csv":    "user_id,country,signup\nu1,DE,2026-01-02\nu2,FR,2026-03-04\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	prefix := s3server.UniquePrefix(t)
	cacheDir := t.TempDir()
	env := []string{
		"AWS_ACCESS_KEY_ID=" + srv.AccessKey, "AWS_SECRET_ACCESS_KEY=" + srv.SecretKey,
		"AWS_ENDPOINT_URL_S3=" + srv.Endpoint, "AWS_REGION=us-east-1", "AWS_S3_FORCE_PATH_STYLE=true",
		"LAKECTL_PIPELINE=" + dir, "XDG_CACHE_HOME=" + cacheDir,
	}
	s3env := append(slices.Clone(env), "LAKECTL_LAKE=s3://"+srv.Bucket+"/"+prefix)
	localEnv := append(slices.Clone(env), "LAKECTL_LAKE="+filepath.Join(t.TempDir(), "lake"))
	exported := map[string]*sql.DB{}
	for name, env := range map[string][]string{"s3": s3env, "local": localEnv} {
		mustLakectlEnv(t, env, "ref", "load", "users")
		file := filepath.Join(t.TempDir(), name+".duckdb")
		if out := mustLakectlEnv(t, env, "catalog", "export", file); !strings.Contains(out, "1 views") {
			t.Fatalf("export of the %s lake: %q, want one view", name, out)
		}
		db, err := sql.Open("duckdb", file+"?access_mode=read_only")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		exported[name] = db
	}
	db := exported["s3"]

	var viewSQL string
	if err := db.QueryRow("SELECT sql FROM duckdb_views() WHERE schema_name = 'ref' AND view_name = 'users'").Scan(&viewSQL); err != nil {
		t.Fatal(err)
	}
	wantURL := "s3://" + srv.Bucket + "/" + prefix + "/ref/users/part-"
	if !strings.Contains(viewSQL, wantURL) || strings.Contains(viewSQL, "endpoint") || strings.Contains(viewSQL, "lakectl-export-") {
		t.Errorf("view ref.users: %s\nwant it over %s... and no stub or endpoint", viewSQL, wantURL)
	}
	columns := func(db *sql.DB) string {
		var cols string
		if err := db.QueryRow("SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY column_index) FROM duckdb_columns() WHERE schema_name = 'ref' AND table_name = 'users'").Scan(&cols); err != nil {
			t.Fatal(err)
		}
		return cols
	}
	if got, want := columns(db), columns(exported["local"]); got != want || want == "" {
		t.Errorf("columns of ref.users in the S3 export: %q, want the local export's %q", got, want)
	}

	// Without httpfs, the view asks for it: it reads its s3:// URLs when queried.
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "SET autoload_known_extensions = false"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), "SELECT count(*) FROM ref.users"); err == nil || !strings.Contains(err.Error(), "httpfs") || !strings.Contains(err.Error(), wantURL) {
		t.Errorf("query of ref.users without httpfs: %v, want DuckDB to ask for httpfs to read %s...", err, wantURL)
	}
	// With its file at hand (lakectl query's cached copy), it reads exactly that file.
	mustLakectlEnv(t, s3env, "query", "SELECT count(*) FROM ref.users")
	cached := cachedDataFiles(t, cacheDir) // the only table of the S3 lake, which alone has a cache
	if len(cached) != 1 {
		t.Fatalf("cached files of ref.users: %v, want one", cached)
	}
	if _, err := conn.ExecContext(t.Context(), "SET VARIABLE lakectl_export_files = ["+sqlfrag.Str(cached[0]).String()+"]"); err != nil {
		t.Fatal(err)
	}
	var n int
	var countries string
	if err := conn.QueryRowContext(t.Context(), "SELECT count(*), string_agg(country, ',' ORDER BY country) FROM ref.users").Scan(&n, &countries); err != nil {
		t.Fatal(err)
	}
	if n != 2 || countries != "DE,FR" {
		t.Errorf("ref.users over its file: %d rows, countries %s; want 2, DE,FR", n, countries)
	}
}
