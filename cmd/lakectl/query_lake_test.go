package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestQueryLakeWithoutPipeline: `query --lake DIR` with no lakectl.yaml anywhere reads
// the tables under the lake's layers by name, and the catalog hint lists them.
func TestQueryLakeWithoutPipeline(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"lakectl.yaml": "reference:\n  users: {file: users.csv}\n",
		"users.csv":    "user_id,country\nu1,DE\nu2,\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mustLakectl(t, "ref", "load", "users", "-p", dir)
	lakeDir := filepath.Join(dir, "lake")
	if err := os.Remove(filepath.Join(dir, "lakectl.yaml")); err != nil {
		t.Fatal(err)
	}

	if got := mustLakectl(t, "query", "--lake", lakeDir, "--format", "csv", "SELECT user_id, country FROM ref.users ORDER BY user_id"); got != "user_id,country\nu1,DE\nu2,\n" {
		t.Errorf("query --lake of ref.users: %q", got)
	}
	res := runLakectl(t, "query", "--lake", lakeDir, "SELECT * FROM silver.nothing")
	if res.exitCode != 1 || !strings.Contains(res.stderr, "hint: the tables are ref.users (v0)") {
		t.Errorf("query --lake of a table the lake lacks: exit %d, stderr %q; want the tables listed", res.exitCode, res.stderr)
	}
	res = runLakectl(t, "query", "SELECT 1")
	if res.exitCode != 1 || !strings.Contains(res.stderr, "--table NAME=URL") {
		t.Errorf("query with neither pipeline nor lake: exit %d, stderr %q; want a usage error", res.exitCode, res.stderr)
	}
}

// TestQueryExternalTable: --table NAME=URL queries a Delta table that no pipeline
// declares, by its bare name, --as-of included, in the same sandbox: the SQL reads the
// table's live files and nothing else, not even a file the table removed.
func TestQueryExternalTable(t *testing.T) {
	e := newEvents(t) // v0: a1 (3 rows); v1: + b1 (2 rows); v2: a1 replaced by a2 (4 rows)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "p,n\na,4\nb,2\n"},
		{[]string{"--as-of", "0"}, "p,n\na,3\n"},
		{[]string{"--as-of", "1"}, "p,n\na,3\nb,2\n"},
	} {
		args := append([]string{"query", "--table", "ev=" + e.dir, "--format", "csv", "SELECT p, count(*) AS n FROM ev GROUP BY p ORDER BY p"}, tt.args...)
		if got := mustLakectl(t, args...); got != tt.want {
			t.Errorf("lakectl %q: %q, want %q", args, got, tt.want)
		}
	}
	if got := mustLakectl(t, "query", "--table", "ev="+e.dir, "--table", "ev2=file://"+e.dir, "--format", "csv",
		"SELECT count(*) AS n FROM main.ev JOIN ev2 USING (id, p)"); got != "n\n6\n" {
		t.Errorf("two --table tables joined: %q, want 6 rows", got)
	}
	removed := filepath.Join(e.dir, filepath.FromSlash(e.a1.DecodedPath()))
	res := runLakectl(t, "query", "--table", "ev="+e.dir, "SELECT count(*) FROM ev, read_parquet('"+removed+"')")
	if res.exitCode != 1 || !strings.Contains(res.stderr, "Permission Error") {
		t.Errorf("read of a removed file beside --table: exit %d, stderr %q; want DuckDB's Permission Error", res.exitCode, res.stderr)
	}
	res = runLakectl(t, "query", "--table", "bad name="+e.dir, "SELECT 1")
	if res.exitCode != 1 || !strings.Contains(res.stderr, "bad --table") {
		t.Errorf("--table with a bad name: exit %d, stderr %q", res.exitCode, res.stderr)
	}
}
