package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
)

// FileResolver gives DuckDB a local file for each data file of a table.
type FileResolver interface {
	// LocalFile returns a local path that holds the data file add. The file stays there
	// until release is called (release is idempotent).
	LocalFile(ctx context.Context, add lake.Add) (path string, release func(), err error)
}

// TableFiles resolves the data files of table through c, which hands over the store's
// own paths for a local store and downloads the others once.
func TableFiles(table *lake.Table, c *cache.Cache) FileResolver {
	return tableFiles{table: table, cache: c}
}

type tableFiles struct {
	table *lake.Table
	cache *cache.Cache
}

func (r tableFiles) LocalFile(ctx context.Context, add lake.Add) (string, func(), error) {
	if add.IsAbsolute() {
		// The protocol allows absolute URLs; only local ones can be opened here.
		u, err := url.Parse(add.Path)
		if err != nil || u.Scheme != "file" {
			return "", nil, &lake.UnsupportedError{Feature: "absolute data file path " + add.Path}
		}
		return existing(u.Path, func() {})
	}
	path, release, err := r.cache.Acquire(ctx, r.table.Key(add.DecodedPath()))
	if err != nil {
		return "", nil, err
	}
	return existing(path, release)
}

// existing checks that path is there: the cache hands over a local store's own paths
// unopened, and a file missing there would otherwise surface as DuckDB's error about
// a file it cannot open, at the first query.
func existing(path string, release func()) (string, func(), error) {
	if _, err := os.Stat(path); err != nil {
		release()
		return "", nil, err
	}
	return path, release, nil
}

// MissingFileError is a data file that a snapshot lists as live and the store does
// not hold: the table is broken until the add is removed (or the file restored).
// errors.Is(err, fs.ErrNotExist) is true for it.
type MissingFileError struct {
	Path    string // as the log has it, relative to the table root
	Version int64  // the snapshot that lists it
	Err     error
}

func (e *MissingFileError) Error() string {
	return fmt.Sprintf("data file %s is missing (listed in v%d)", e.Path, e.Version)
}

func (e *MissingFileError) Unwrap() error { return e.Err }

// resolveConcurrency bounds how many data files are fetched into the cache at once.
const resolveConcurrency = 8

// Names of the helper columns of generated views. They cannot clash with table columns
// in a way that matters: the view selects table columns by name.
const fileIndexCol = "__lakectl_file_index"

// RegisterTable creates (or replaces) the view schema.name over the live files of snap.
// Its columns are the table's schema, in order and typed as DuckType says; partition
// columns come from the Delta log (never from directory names), cast to their types,
// null partition values as NULL; columns that a file lacks (added after it was written)
// read as NULL. The files stay pinned in the cache until the view is replaced or the
// session closed.
func (s *Session) RegisterTable(ctx context.Context, schema, name string, snap *lake.Snapshot, files FileResolver) error {
	return s.RegisterFiles(ctx, schema, name, snap, snap.Files(), files)
}

// RegisterFiles is RegisterTable over a subset of snap's files, e.g. only the partitions
// a job needs.
func (s *Session) RegisterFiles(ctx context.Context, schema, name string, snap *lake.Snapshot, adds []lake.Add, files FileResolver) error {
	view := sqlfrag.Qualified(schema, name)
	if err := s.registerFiles(ctx, schema, name, snap, adds, files); err != nil {
		return fmt.Errorf("register %s v%d: %w", view, snap.Version, err)
	}
	s.log.Debug("registered", "view", schema+"."+name, "version", snap.Version, "files", len(adds))
	return nil
}

func (s *Session) registerFiles(ctx context.Context, schema, name string, snap *lake.Snapshot, adds []lake.Add, files FileResolver) error {
	s.mu.Lock()
	sealed := s.sealed
	s.mu.Unlock()
	if sealed {
		return ErrSealed
	}
	tschema, err := snap.Schema()
	if err != nil {
		return err
	}
	cols, err := viewColumns(tschema, snap.PartitionColumns())
	if err != nil {
		return err
	}
	paths, release, err := resolveAll(ctx, adds, files)
	if missing := (*MissingFileError)(nil); errors.As(err, &missing) {
		missing.Version = snap.Version
		return missing
	}
	if err != nil {
		return err
	}
	var body sqlfrag.SQL
	if len(paths) == 0 {
		body = emptySelect(cols)
	} else {
		present, err := s.fileColumns(ctx, paths)
		if err != nil {
			release()
			return err
		}
		body = filesSelect(cols, paths, adds, present)
	}
	stmts := []sqlfrag.SQL{
		sqlfrag.Fmt("CREATE SCHEMA IF NOT EXISTS %s", sqlfrag.Ident(schema)),
		sqlfrag.Fmt("CREATE OR REPLACE VIEW %s AS %s", sqlfrag.Qualified(schema, name), body),
	}
	for _, st := range stmts {
		if _, err := s.conn.ExecContext(ctx, st.String()); err != nil {
			release()
			return err
		}
	}
	s.mu.Lock()
	key := schema + "\x00" + name
	old := s.pins[key]
	s.pins[key] = release
	s.files[key] = paths
	s.mu.Unlock()
	if old != nil {
		old()
	}
	return nil
}

// viewColumn is one column of a registered view.
type viewColumn struct {
	name      string
	duckType  sqlfrag.SQL
	partition bool
}

func viewColumns(schema *lake.Schema, partitionCols []string) ([]viewColumn, error) {
	isPart := map[string]bool{}
	for _, p := range partitionCols {
		isPart[p] = true
	}
	cols := make([]viewColumn, 0, len(schema.Fields))
	for _, f := range schema.Fields {
		dt := f.DataType
		if dt.Name == "" {
			dt = lake.Primitive(f.Type)
		}
		t, err := DuckType(dt)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", f.Name, err)
		}
		cols = append(cols, viewColumn{name: f.Name, duckType: t, partition: isPart[f.Name]})
	}
	for _, p := range partitionCols {
		if _, ok := schema.Field(p); !ok {
			return nil, fmt.Errorf("partition column %s is not in the schema", p)
		}
	}
	return cols, nil
}

// resolveAll gets a local path for every file, a few at a time, and returns one
// release for all of them.
func resolveAll(ctx context.Context, adds []lake.Add, files FileResolver) ([]string, func(), error) {
	paths := make([]string, len(adds))
	releases := make([]func(), len(adds))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(resolveConcurrency)
	for i, a := range adds {
		g.Go(func() error {
			p, rel, err := files.LocalFile(gctx, a)
			if errors.Is(err, fs.ErrNotExist) {
				return &MissingFileError{Path: a.Path, Err: err}
			}
			if err != nil {
				return fmt.Errorf("data file %s: %w", a.Path, err)
			}
			paths[i], releases[i] = p, rel
			return nil
		})
	}
	var once sync.Once
	release := func() {
		once.Do(func() {
			for _, r := range releases {
				if r != nil {
					r()
				}
			}
		})
	}
	if err := g.Wait(); err != nil {
		release()
		return nil, nil, err
	}
	return paths, release, nil
}

// readParquet is the scan of all files, by column name, with no Hive partitioning:
// partition values come from the log, not from directory names.
func readParquet(paths []string) sqlfrag.SQL {
	return sqlfrag.Fmt("read_parquet(%s, union_by_name = true, hive_partitioning = false)", sqlfrag.StrList(paths))
}

// fileColumns returns the columns that the files hold (the union over all of them), by
// lower-case name, with their DuckDB types.
func (s *Session) fileColumns(ctx context.Context, paths []string) (map[string]string, error) {
	rows, err := s.conn.QueryContext(ctx, sqlfrag.Fmt("DESCRIBE SELECT * FROM %s", readParquet(paths)).String())
	if err != nil {
		return nil, fmt.Errorf("read file schemas: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, typ string
		var null, key, def, extra any
		if err := rows.Scan(&name, &typ, &null, &key, &def, &extra); err != nil {
			return nil, fmt.Errorf("read file schemas: %w", err)
		}
		out[strings.ToLower(name)] = typ
	}
	return out, rows.Err()
}

// emptySelect is a view with the schema's columns and no rows.
func emptySelect(cols []viewColumn) sqlfrag.SQL {
	parts := make([]sqlfrag.SQL, len(cols))
	for i, c := range cols {
		parts[i] = sqlfrag.Fmt("CAST(NULL AS %s) AS %s", c.duckType, sqlfrag.Ident(c.name))
	}
	return sqlfrag.Fmt("SELECT %s WHERE false", sqlfrag.List(parts...))
}

// filesSelect reads the data files and, for a partitioned table, joins each row to its
// file's partition values by the scan's file_index: a small hash join against one row
// per file, instead of one scan per partition.
func filesSelect(cols []viewColumn, paths []string, adds []lake.Add, present map[string]string) sqlfrag.SQL {
	var sel []sqlfrag.SQL
	var parts []viewColumn
	for _, c := range cols {
		name := sqlfrag.Ident(c.name)
		switch fileType, ok := present[strings.ToLower(c.name)]; {
		case c.partition:
			parts = append(parts, c)
			sel = append(sel, sqlfrag.Fmt("p.%s", name))
		case !ok:
			sel = append(sel, sqlfrag.Fmt("CAST(NULL AS %s) AS %s", c.duckType, name))
		case sameType(fileType, c.duckType.String()):
			sel = append(sel, sqlfrag.Fmt("d.%s", name))
		default:
			sel = append(sel, sqlfrag.Fmt("CAST(d.%[1]s AS %[2]s) AS %[1]s", name, c.duckType))
		}
	}
	q := sqlfrag.Fmt("SELECT %s FROM %s AS d", sqlfrag.List(sel...), readParquet(paths))
	if len(parts) == 0 {
		return q
	}
	return sqlfrag.Fmt("%s JOIN (%s) AS p ON d.file_index = p.%s", q, partitionValues(parts, adds), sqlfrag.Ident(fileIndexCol))
}

// partitionValues is a VALUES table of (file index, typed partition values...).
func partitionValues(parts []viewColumn, adds []lake.Add) sqlfrag.SQL {
	rows := make([]sqlfrag.SQL, len(adds))
	for i, a := range adds {
		row := []sqlfrag.SQL{sqlfrag.Fmt("(CAST(%s AS UBIGINT)", sqlfrag.Int(int64(i)))}
		for _, c := range parts {
			v := a.PartitionValues[c.name]
			// The protocol: a missing value, null, or an empty string is a null partition.
			if v == nil || *v == "" {
				row = append(row, sqlfrag.Fmt("CAST(NULL AS %s)", c.duckType))
			} else {
				row = append(row, sqlfrag.Fmt("CAST(%s AS %s)", sqlfrag.Str(*v), c.duckType))
			}
		}
		rows[i] = sqlfrag.Fmt("%s)", sqlfrag.List(row...))
	}
	names := []sqlfrag.SQL{sqlfrag.Ident(fileIndexCol)}
	for _, c := range parts {
		names = append(names, sqlfrag.Ident(c.name))
	}
	return sqlfrag.Fmt("SELECT * FROM (VALUES %s) AS v(%s)", sqlfrag.List(rows...), sqlfrag.List(names...))
}

// sameType reports whether a file column already has the view's type, so the view
// need not cast it (a cast costs per row). Complex types are always cast: a cast of a
// struct matches fields by name, which also fills fields that older files lack.
func sameType(fileType, viewType string) bool {
	norm := func(t string) string {
		t = strings.ToUpper(strings.TrimSpace(t))
		if t == "TIMESTAMPTZ" {
			return "TIMESTAMP WITH TIME ZONE"
		}
		return t
	}
	if strings.ContainsAny(viewType, "([") && !strings.HasPrefix(viewType, "DECIMAL") {
		return false
	}
	return norm(fileType) == norm(viewType)
}

// ViewSQL is the query of a view over snap's live files as urls (one per file of
// snap.Files(), in that order) name them, for a database that another DuckDB opens
// (lakectl catalog export): the columns of the table's schema, partition values from
// the log. It reads no file, so every file is taken to hold every column that its
// schema had when written (a column added later reads as NULL through
// union_by_name only when another file has it).
func ViewSQL(snap *lake.Snapshot, urls []string) (string, error) {
	tschema, err := snap.Schema()
	if err != nil {
		return "", err
	}
	cols, err := viewColumns(tschema, snap.PartitionColumns())
	if err != nil {
		return "", err
	}
	adds := snap.Files()
	if len(urls) != len(adds) {
		return "", fmt.Errorf("view of v%d: %d urls for %d files", snap.Version, len(urls), len(adds))
	}
	if len(adds) == 0 {
		return emptySelect(cols).String(), nil
	}
	present := map[string]string{}
	for _, c := range cols {
		present[strings.ToLower(c.name)] = c.duckType.String()
	}
	return filesSelect(cols, urls, adds, present).String(), nil
}
