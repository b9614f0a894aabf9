package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
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

// resolveConcurrency bounds how many data files are fetched into the cache at once. A
// fetch of a small file waits on latency more than on bandwidth (the request, then the
// copy's fsync), so more at once pay off: on MinIO over loopback, 16 at once fetched a
// day of 24 files of 120 kB about a tenth faster than 8.
const resolveConcurrency = 16

// Names of the helper columns of generated views. They cannot clash with table columns
// in a way that matters: the view selects table columns by name.
const fileIndexCol = "__lakectl_file_index"

// RegisterTable creates (or replaces) the view schema.name over the live files of snap.
// Its columns are the table's schema, in order and typed as DuckType says; partition
// columns hold the Delta log's values, cast to their types, null partition values as
// NULL; columns that a file lacks (added after it was written) read as NULL. The files
// stay pinned in the cache until the view is replaced or the session closed.
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
	// The columns the files hold: the log's, where it proves them, so each file can be
	// linked for Hive partitioning as soon as it is local, while the others are
	// fetched; else (or if DuckDB binds the view to other types than the log's) the
	// files' own, once all are local.
	present := logColumns(cols, adds)
	var linker *hiveLinker
	if present != nil {
		linker = s.newHiveLinker(cols, adds, present)
	}
	paths, release, err := resolveAll(ctx, adds, files, linker.linkFunc())
	if err != nil {
		linker.unlink()
		if missing := (*MissingFileError)(nil); errors.As(err, &missing) {
			missing.Version = snap.Version
			return missing
		}
		return err
	}
	hive, unlink := linker.paths(), linker.unlink
	switch {
	case len(paths) == 0:
		err = s.createView(ctx, schema, name, emptySelect(cols))
	case present != nil:
		err = s.createView(ctx, schema, name, filesSelect(cols, paths, adds, present, hive, true))
		if err == nil && !s.viewHasTypes(ctx, schema, name, cols) {
			err = errors.New("the files' types differ from the log's")
		}
		if err == nil {
			break
		}
		s.log.Debug("view from the log's schema refused, reading the files' schemas", "view", schema+"."+name, "err", err)
		unlink()
		fallthrough
	default:
		present, err = s.fileColumns(ctx, paths)
		if err == nil {
			hive, unlink = s.hivePaths(cols, paths, adds, present)
			err = s.createView(ctx, schema, name, filesSelect(cols, paths, adds, present, hive, false))
		}
	}
	release = releaseBoth(release, unlink)
	if err != nil {
		release()
		return err
	}
	for _, h := range hive {
		if h != "" && !slices.Contains(paths, h) {
			paths = append(paths, h) // a link, which the sandbox must allow too
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

// createView creates or replaces the view schema.name as body, and the schema if
// need be, in one call.
func (s *Session) createView(ctx context.Context, schema, name string, body sqlfrag.SQL) error {
	_, err := s.conn.ExecContext(ctx, sqlfrag.Fmt("CREATE SCHEMA IF NOT EXISTS %s; CREATE OR REPLACE VIEW %s AS %s",
		sqlfrag.Ident(schema), sqlfrag.Qualified(schema, name), body).String())
	return err
}

// logColumns are the columns that every one of adds holds, by lower-case name, typed
// as the view types them, when the log proves them: each file's statistics count the
// nulls of exactly the schema's columns that are not partition columns (a writer
// counts those of the columns its file holds), so no file lacks a column or holds a
// partition column. Nil when some file's statistics do not say so (none, nested lists
// and maps, which get no count, a file from before a column was added).
func logColumns(cols []viewColumn, adds []lake.Add) map[string]string {
	present := map[string]string{}
	for _, c := range cols {
		if !c.partition {
			present[strings.ToLower(c.name)] = c.duckType.String()
		}
	}
	for _, a := range adds {
		var st struct {
			NullCount map[string]json.RawMessage `json:"nullCount"`
		}
		if a.Stats == "" || json.Unmarshal([]byte(a.Stats), &st) != nil || len(st.NullCount) != len(present) {
			return nil
		}
		for k := range st.NullCount {
			if _, ok := present[strings.ToLower(k)]; !ok {
				return nil
			}
		}
	}
	return present
}

func isNested(duckType string) bool {
	return strings.ContainsAny(duckType, "([") && !strings.HasPrefix(duckType, "DECIMAL")
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
// release for all of them. each, if not nil, is called with each file's index and
// path as soon as it is local, from several goroutines at once.
func resolveAll(ctx context.Context, adds []lake.Add, files FileResolver, each func(i int, path string)) ([]string, func(), error) {
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
			if each != nil {
				each(i, p)
			}
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
// partition values come from the log, not from directory names. union_by_name makes
// DuckDB read every file's footer when it binds, to unify columns that some files
// lack; without it, it binds to the first file's and maps each other file's columns
// to them by name as it reads it (sameColumns: every file holds the same columns).
func readParquet(paths []string, sameColumns bool) sqlfrag.SQL {
	return sqlfrag.Fmt("read_parquet(%s, union_by_name = %s, hive_partitioning = false)", sqlfrag.StrList(paths), unionByName(sameColumns))
}

func unionByName(sameColumns bool) sqlfrag.SQL {
	if sameColumns {
		return sqlfrag.Const("false")
	}
	return sqlfrag.Const("true")
}

// fileColumns returns the columns that the files hold (the union over all of them), by
// lower-case name, with their DuckDB types.
func (s *Session) fileColumns(ctx context.Context, paths []string) (map[string]string, error) {
	rows, err := s.conn.QueryContext(ctx, sqlfrag.Fmt("DESCRIBE SELECT * FROM %s", readParquet(paths, false)).String())
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

// filesSelect reads the data files of a table. Partition values come two ways. A
// file with a path in hive (nil: none has) is read there, with DuckDB's Hive
// partitioning, typed by hive_types: the values are constants of each file's scan,
// which costs nothing per row and lets DuckDB skip files by them. The others are
// joined to their values by the scan's file_index: a small hash join against one row
// per file, instead of one scan per partition, which costs per row. A table with both
// kinds is the UNION ALL of the two.
func filesSelect(cols []viewColumn, paths []string, adds []lake.Add, present map[string]string, hive []string, sameColumns bool) sqlfrag.SQL {
	var parts []viewColumn
	for _, c := range cols {
		if c.partition {
			parts = append(parts, c)
		}
	}
	if len(parts) == 0 {
		return sqlfrag.Fmt("SELECT %s FROM %s AS d", dataColumns(cols, present, false), readParquet(paths, sameColumns))
	}
	var hivePaths, joinPaths []string
	var joinAdds []lake.Add
	for i, p := range paths {
		if hive != nil && hive[i] != "" {
			hivePaths = append(hivePaths, hive[i])
		} else {
			joinPaths = append(joinPaths, p)
			joinAdds = append(joinAdds, adds[i])
		}
	}
	var selects []sqlfrag.SQL
	if len(hivePaths) > 0 {
		selects = append(selects, sqlfrag.Fmt("SELECT %s FROM %s AS d", dataColumns(cols, present, false), readParquetHive(hivePaths, parts, sameColumns)))
	}
	if len(joinPaths) > 0 {
		selects = append(selects, sqlfrag.Fmt("SELECT %s FROM %s AS d JOIN (%s) AS p ON d.file_index = p.%s",
			dataColumns(cols, present, true), readParquet(joinPaths, sameColumns), partitionValues(parts, joinAdds), sqlfrag.Ident(fileIndexCol)))
	}
	return sqlfrag.Join(selects, " UNION ALL ")
}

// readParquetHive is readParquet with the partition columns parts read from the
// files' paths (col=value directories), each typed as the view types it.
func readParquetHive(paths []string, parts []viewColumn, sameColumns bool) sqlfrag.SQL {
	types := make([]sqlfrag.SQL, len(parts))
	for i, c := range parts {
		// The type as a string: hive_types does not parse DECIMAL(p,s) as a type.
		types[i] = sqlfrag.Fmt("%s: %s", sqlfrag.Str(c.name), sqlfrag.Str(c.duckType.String()))
	}
	return sqlfrag.Fmt("read_parquet(%s, union_by_name = %s, hive_partitioning = true, hive_types = {%s})",
		sqlfrag.StrList(paths), unionByName(sameColumns), sqlfrag.List(types...))
}

// hivePaths returns for each file a local path from which DuckDB's Hive partitioning
// reads exactly the log's partition values, or "" where there is none (nil: no file
// has one), and a function that removes the links it made (see hiveLinker).
func (s *Session) hivePaths(cols []viewColumn, paths []string, adds []lake.Add, present map[string]string) ([]string, func()) {
	h := s.newHiveLinker(cols, adds, present)
	if h == nil {
		return nil, func() {}
	}
	for i, p := range paths {
		h.link(i, p)
	}
	return h.out, h.unlink
}

// hiveLinker finds, file by file, a local path from which DuckDB's Hive partitioning
// reads exactly the log's partition values. A file's own path serves when it sits
// below directories lake.PartitionDir named from its values (a local store's files,
// and the cache's, which it hands over below the same directories), and below no other
// col=value directory that DuckDB would also read. Any other file (one whose
// directories say otherwise, as Bronze's ingest_hour=09 for the log's "9" did, or one
// the cache could give no such path) is given a symbolic link in such directories,
// made in the session's own link directory: one link per file costs far less than
// the join's work per row. Neither serves for values that DuckDB reads differently
// from the log (the empty string, a null partition to Delta and "" to DuckDB; any
// spelling of "null", a string to Delta and NULL to DuckDB), for partition columns
// that the files also hold (a path value would shadow them), or where no link can be
// made; those files keep the join.
type hiveLinker struct {
	s     *Session
	parts []string
	adds  []lake.Add
	out   []string // by file: its path for Hive partitioning, "" for none

	once   sync.Once
	dir    string // this registration's directory of links, made on first use
	dirErr error
}

// newHiveLinker returns nil when no file of adds can be read with Hive partitioning.
func (s *Session) newHiveLinker(cols []viewColumn, adds []lake.Add, present map[string]string) *hiveLinker {
	var parts []string
	for _, c := range cols {
		if c.partition {
			if _, inFile := present[strings.ToLower(c.name)]; inFile || lake.HiveEscape(c.name) != c.name {
				return nil
			}
			parts = append(parts, c.name)
		}
	}
	if len(parts) == 0 {
		return nil
	}
	return &hiveLinker{s: s, parts: parts, adds: adds, out: make([]string, len(adds))}
}

// link finds the path of file i, which is at local. Calls for different files may run
// at once.
func (h *hiveLinker) link(i int, local string) {
	a := h.adds[i]
	switch {
	case !valuesReadBack(h.parts, a):
	case a.PartitionPathAgrees(h.parts) && rootWithoutValues(local, a.DecodedPath()):
		h.out[i] = local
	default:
		h.once.Do(func() { h.dir, h.dirErr = h.s.newLinkDir() })
		if h.dirErr != nil {
			h.s.log.Debug("no links for hive partitioning, partition values by join", "err", h.dirErr)
			return
		}
		rel := path.Join(lake.PartitionDir(h.parts, a.PartitionValues), fmt.Sprintf("%d.parquet", i))
		link := filepath.Join(h.dir, filepath.FromSlash(rel))
		if !rootWithoutValues(link, rel) {
			return
		}
		if os.MkdirAll(filepath.Dir(link), 0o700) != nil || os.Symlink(local, link) != nil {
			return
		}
		h.out[i] = link
	}
}

// linkFunc is link, or nil for a nil h.
func (h *hiveLinker) linkFunc() func(int, string) {
	if h == nil {
		return nil
	}
	return h.link
}

// paths are the files' paths for Hive partitioning; nil for a nil h.
func (h *hiveLinker) paths() []string {
	if h == nil {
		return nil
	}
	return h.out
}

// unlink removes the links; nil h has none.
func (h *hiveLinker) unlink() {
	if h != nil && h.dir != "" {
		os.RemoveAll(h.dir)
	}
}

// newLinkDir makes a directory for one registration's links, in the session's link
// directory (made on first use, beside its DuckDB temp directory).
func (s *Session) newLinkDir() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.linkDir == "" {
		dir, err := os.MkdirTemp(filepath.Dir(s.tempDir), "lakectl-views-")
		if err != nil {
			return "", err
		}
		s.linkDir = dir
	}
	return os.MkdirTemp(s.linkDir, "v")
}

// releaseBoth returns a release that calls a and b once.
func releaseBoth(a, b func()) func() {
	var once sync.Once
	return func() { once.Do(func() { a(); b() }) }
}

// valuesReadBack reports whether DuckDB reads the add's partition directories back as
// the log's values.
func valuesReadBack(parts []string, a lake.Add) bool {
	for _, c := range parts {
		if v := a.PartitionValues[c]; v != nil && (*v == "" || strings.EqualFold(*v, "null")) {
			return false
		}
	}
	return true
}

// rootWithoutValues reports whether local is rel (a slash-separated path) below a
// directory none of whose names has an '=', so that rel's directories are the only
// Hive partitions DuckDB finds in it.
func rootWithoutValues(local, rel string) bool {
	root, ok := strings.CutSuffix(filepath.ToSlash(local), "/"+rel)
	return ok && !strings.Contains(root, "=")
}

// dataColumns is the select list of a view over read_parquet AS d: the columns in
// order, partition columns from the joined values p if joined (else from d's paths),
// columns the files lack as NULL, columns whose file type differs cast to the view's.
func dataColumns(cols []viewColumn, present map[string]string, joined bool) sqlfrag.SQL {
	var sel []sqlfrag.SQL
	for _, c := range cols {
		name := sqlfrag.Ident(c.name)
		switch fileType, ok := present[strings.ToLower(c.name)]; {
		case c.partition && joined:
			sel = append(sel, sqlfrag.Fmt("p.%s", name))
		case c.partition:
			sel = append(sel, sqlfrag.Fmt("d.%s", name))
		case !ok:
			sel = append(sel, sqlfrag.Fmt("CAST(NULL AS %s) AS %s", c.duckType, name))
		case sameType(fileType, c.duckType.String()):
			sel = append(sel, sqlfrag.Fmt("d.%s", name))
		default:
			sel = append(sel, sqlfrag.Fmt("CAST(d.%[1]s AS %[2]s) AS %[1]s", name, c.duckType))
		}
	}
	return sqlfrag.List(sel...)
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
	if isNested(viewType) {
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
	return filesSelect(cols, urls, adds, present, nil, false).String(), nil
}
