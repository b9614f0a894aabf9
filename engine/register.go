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
	view := QualifiedName(schema, name)
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
	var body string
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
	stmts := []string{
		"CREATE SCHEMA IF NOT EXISTS " + Ident(schema),
		"CREATE OR REPLACE VIEW " + QualifiedName(schema, name) + " AS " + body,
	}
	for _, st := range stmts {
		if _, err := s.conn.ExecContext(ctx, st); err != nil {
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
	duckType  string
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
func readParquet(paths []string) string {
	return "read_parquet(" + ListLiteral(paths) + ", union_by_name = true, hive_partitioning = false)"
}

// fileColumns returns the columns that the files hold (the union over all of them), by
// lower-case name, with their DuckDB types.
func (s *Session) fileColumns(ctx context.Context, paths []string) (map[string]string, error) {
	rows, err := s.conn.QueryContext(ctx, "DESCRIBE SELECT * FROM "+readParquet(paths))
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
func emptySelect(cols []viewColumn) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = Cast("NULL", c.duckType) + " AS " + Ident(c.name)
	}
	return "SELECT " + strings.Join(parts, ", ") + " WHERE false"
}

// filesSelect reads the data files and, for a partitioned table, joins each row to its
// file's partition values by the scan's file_index: a small hash join against one row
// per file, instead of one scan per partition.
func filesSelect(cols []viewColumn, paths []string, adds []lake.Add, present map[string]string) string {
	var sel []string
	var parts []viewColumn
	for _, c := range cols {
		switch fileType, ok := present[strings.ToLower(c.name)]; {
		case c.partition:
			parts = append(parts, c)
			sel = append(sel, "p."+Ident(c.name))
		case !ok:
			sel = append(sel, Cast("NULL", c.duckType)+" AS "+Ident(c.name))
		case sameType(fileType, c.duckType):
			sel = append(sel, "d."+Ident(c.name))
		default:
			sel = append(sel, Cast("d."+Ident(c.name), c.duckType)+" AS "+Ident(c.name))
		}
	}
	q := "SELECT " + strings.Join(sel, ", ") + " FROM " + readParquet(paths) + " AS d"
	if len(parts) == 0 {
		return q
	}
	return q + " JOIN (" + partitionValues(parts, adds) + ") AS p ON d.file_index = p." + Ident(fileIndexCol)
}

// partitionValues is a VALUES table of (file index, typed partition values...).
func partitionValues(parts []viewColumn, adds []lake.Add) string {
	var b strings.Builder
	b.WriteString("SELECT * FROM (VALUES ")
	for i, a := range adds {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(CAST(%d AS UBIGINT)", i)
		for _, c := range parts {
			b.WriteString(", ")
			v := a.PartitionValues[c.name]
			// The protocol: a missing value, null, or an empty string is a null partition.
			if v == nil || *v == "" {
				b.WriteString(Cast("NULL", c.duckType))
			} else {
				b.WriteString(Cast(Literal(*v), c.duckType))
			}
		}
		b.WriteByte(')')
	}
	b.WriteString(") AS v(")
	b.WriteString(Ident(fileIndexCol))
	for _, c := range parts {
		b.WriteString(", " + Ident(c.name))
	}
	b.WriteString(")")
	return b.String()
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
		return emptySelect(cols), nil
	}
	present := map[string]string{}
	for _, c := range cols {
		present[strings.ToLower(c.name)] = c.duckType
	}
	return filesSelect(cols, urls, adds, present), nil
}
