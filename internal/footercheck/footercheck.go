// Package footercheck checks every live file of a lake the way an independent
// Parquet reader sees it, for the end-to-end tests: DuckDB's parquet_schema and
// parquet_metadata over each file that the Delta log of each table names. A file
// passes when every column chunk of every row group names its full column path
// (path_in_schema), the file's columns are the table's schema with the logical types
// Delta prescribes (timestamps TIMESTAMP(MICROS, UTC), strings UTF8, decimals
// DECIMAL(p,s), dates DATE), its row count is the log's numRecords, its per-column
// statistics are DuckDB's nulls, minimum and maximum of the file exactly (strings
// cut as the protocol allows), and its directory is the one lake.PartitionDir makes
// of its partition values.
//
//	rep := footercheck.Check(t, store) // t.Error for each problem
//	t.Logf("checked %d files", rep.Files)
package footercheck

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2" // the "duckdb" database/sql driver

	"github.com/lakectl/lakectl/lake"
)

// Report is what a check of a lake found.
type Report struct {
	Tables   []string       // the roots of the tables checked, sorted
	Files    int            // live files checked
	PerTable map[string]int // live files checked, by table root
	Problems []Problem
}

// Problem is one way one file fails the check.
type Problem struct {
	Table string // the table's root
	Path  string // the file's path below the root, decoded
	What  string
}

func (p Problem) String() string { return p.Table + ": " + p.Path + ": " + p.What }

// Check runs Lake and reports each problem with t.Error; an error reading the lake
// fails the test at once.
func Check(t testing.TB, store lake.Store) Report {
	t.Helper()
	rep, err := Lake(t.Context(), store, t.TempDir())
	if err != nil {
		t.Fatalf("footer check: %v", err)
	}
	for _, p := range rep.Problems {
		t.Errorf("footer check: %s", p)
	}
	return rep
}

// Lake checks the live files of every table in store: every prefix that holds a
// _delta_log. Files of a store that is not on the local disk are downloaded into
// tmp first.
func Lake(ctx context.Context, store lake.Store, tmp string) (Report, error) {
	rep := Report{PerTable: map[string]int{}}
	roots, err := tableRoots(ctx, store)
	if err != nil {
		return rep, err
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return rep, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, root := range roots {
		n, problems, err := checkTable(ctx, db, lake.NewTable(store, root), tmp)
		if err != nil {
			return rep, err
		}
		rep.Tables = append(rep.Tables, root)
		rep.PerTable[root] = n
		rep.Files += n
		rep.Problems = append(rep.Problems, problems...)
	}
	return rep, nil
}

// tableRoots lists the store and returns every key prefix that has a _delta_log.
func tableRoots(ctx context.Context, store lake.Store) ([]string, error) {
	objs, err := store.List(ctx, "", "")
	if err != nil {
		return nil, fmt.Errorf("list lake: %w", err)
	}
	seen := map[string]bool{}
	for _, o := range objs {
		var root string
		if strings.HasPrefix(o.Key, "_delta_log/") {
			root = ""
		} else if before, _, ok := strings.Cut(o.Key, "/_delta_log/"); ok {
			root = before
		} else {
			continue
		}
		seen[root] = true
	}
	roots := make([]string, 0, len(seen))
	for r := range seen {
		roots = append(roots, r)
	}
	sort.Strings(roots)
	return roots, nil
}

// checkTable checks the live files of one table's latest version.
func checkTable(ctx context.Context, db *sql.DB, table *lake.Table, tmp string) (int, []Problem, error) {
	snap, err := table.Latest(ctx)
	if err != nil {
		return 0, nil, err
	}
	schema, err := snap.Schema()
	if err != nil {
		return 0, nil, fmt.Errorf("schema of %s: %w", table, err)
	}
	var problems []Problem
	files := snap.Files()
	for _, a := range files {
		rel := a.DecodedPath()
		local, cleanup, err := localCopy(ctx, table, rel, tmp)
		if err != nil {
			return 0, nil, err
		}
		whats, err := checkFile(ctx, db, local, a, schema, snap.PartitionColumns())
		cleanup()
		if err != nil {
			return 0, nil, fmt.Errorf("check %s/%s: %w", table, rel, err)
		}
		if !a.PartitionPathAgrees(snap.PartitionColumns()) {
			whats = append(whats, fmt.Sprintf("its directory is not %q, the one its partition values %s name",
				lake.PartitionDir(snap.PartitionColumns(), a.PartitionValues), describeValues(a.PartitionValues)))
		}
		for _, w := range whats {
			problems = append(problems, Problem{Table: table.Root(), Path: rel, What: w})
		}
	}
	return len(files), problems, nil
}

func describeValues(pv map[string]*string) string {
	keys := make([]string, 0, len(pv))
	for k := range pv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		v := "null"
		if pv[k] != nil {
			v = fmt.Sprintf("%q", *pv[k])
		}
		parts[i] = k + "=" + v
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// localCopy returns a local path of the file: the store's own file on a local disk,
// else a download into tmp that cleanup removes.
func localCopy(ctx context.Context, table *lake.Table, rel, tmp string) (string, func(), error) {
	key := table.Key(rel)
	if ls, ok := table.Store().(lake.LocalStore); ok {
		return ls.LocalPath(key), func() {}, nil
	}
	rc, err := table.Store().Get(ctx, key)
	if err != nil {
		return "", nil, fmt.Errorf("get %s: %w", key, err)
	}
	defer rc.Close()
	f, err := os.CreateTemp(tmp, "footercheck-*.parquet")
	if err != nil {
		return "", nil, err
	}
	_, err = io.Copy(f, rc)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", nil, fmt.Errorf("download %s: %w", key, err)
	}
	return f.Name(), func() { os.Remove(f.Name()) }, nil
}

// checkFile returns what is wrong with one file; an error when DuckDB cannot read its
// footer at all.
func checkFile(ctx context.Context, db *sql.DB, path string, a lake.Add, schema *lake.Schema, partitionCols []string) ([]string, error) {
	var problems []string
	tree, err := readSchema(ctx, db, path)
	if err != nil {
		return nil, err
	}
	leaves := map[string]bool{}
	tree.leafPaths(nil, leaves)
	problems = append(problems, chunkProblems(ctx, db, path, leaves)...)
	problems = append(problems, schemaProblems(tree, schema, partitionCols)...)
	problems = append(problems, statsProblems(ctx, db, path, a, schema, partitionCols)...)

	var rows int64
	if err := db.QueryRowContext(ctx, "SELECT num_rows FROM parquet_file_metadata($1)", path).Scan(&rows); err != nil {
		return nil, fmt.Errorf("parquet_file_metadata: %w", err)
	}
	st, ok, err := a.ParseStats()
	switch {
	case err != nil:
		problems = append(problems, fmt.Sprintf("stats do not parse: %v", err))
	case !ok:
		problems = append(problems, "the log has no stats (no numRecords)")
	case st.NumRecords != rows:
		problems = append(problems, fmt.Sprintf("footer holds %d rows, the log's numRecords is %d", rows, st.NumRecords))
	}
	if fi, err := os.Stat(path); err == nil && fi.Size() != a.Size {
		problems = append(problems, fmt.Sprintf("file has %d bytes, the log says %d", fi.Size(), a.Size))
	}
	return problems, nil
}

// chunkProblems checks that every row group has one column chunk per leaf column,
// each naming the leaf's full path.
func chunkProblems(ctx context.Context, db *sql.DB, path string, leaves map[string]bool) []string {
	rows, err := db.QueryContext(ctx, "SELECT row_group_id, path_in_schema FROM parquet_metadata($1) ORDER BY row_group_id, column_id", path)
	if err != nil {
		return []string{fmt.Sprintf("parquet_metadata: %v", err)}
	}
	defer rows.Close()
	var problems []string
	seen := map[int64]map[string]bool{}
	for rows.Next() {
		var rg int64
		var p sql.NullString
		if err := rows.Scan(&rg, &p); err != nil {
			return append(problems, fmt.Sprintf("parquet_metadata: %v", err))
		}
		if seen[rg] == nil {
			seen[rg] = map[string]bool{}
		}
		switch {
		case !p.Valid || p.String == "":
			problems = append(problems, fmt.Sprintf("row group %d: a column chunk with an empty path_in_schema", rg))
		case !leaves[p.String]:
			problems = append(problems, fmt.Sprintf("row group %d: path_in_schema %q is not a leaf column of the file's schema", rg, p.String))
		case seen[rg][p.String]:
			problems = append(problems, fmt.Sprintf("row group %d: two column chunks of %q", rg, p.String))
		}
		seen[rg][p.String] = true
	}
	if err := rows.Err(); err != nil {
		return append(problems, fmt.Sprintf("parquet_metadata: %v", err))
	}
	for rg, got := range seen {
		for leaf := range leaves {
			if !got[leaf] {
				problems = append(problems, fmt.Sprintf("row group %d: no column chunk for %q", rg, leaf))
			}
		}
	}
	sort.Strings(problems)
	return problems
}

// errNoSchema marks a footer without a schema.
var errNoSchema = errors.New("footer has no schema")
