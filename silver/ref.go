package silver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
	"github.com/lakectl/lakectl/pipeline"
)

// Columns that every reference table holds besides the columns of its file: the time
// range in which a row is valid, from RefColValidFrom (included) to RefColValidTo (not
// included). A NULL RefColValidFrom means since ever, a NULL RefColValidTo until
// further notice: the rows with no RefColValidTo are the current ones.
//
// A snapshot load (a file without validity columns) ends, at its valid-from time T,
// the current rows that it does not repeat exactly, and adds its rows that are not
// current already as valid from T; a row whose key the table has never held is valid
// since ever instead, because a snapshot says what a key is now, not when it began,
// and an event that came before the key's first load should find it (a late
// dimension). A type-2 load (a file with validity columns, named in lakectl.yaml)
// replaces the whole history with the file's, kept as given.
const (
	RefColValidFrom = "_valid_from"
	RefColValidTo   = "_valid_to"
)

// RefSpec says what to load into a reference table, and how.
type RefSpec struct {
	Name string // the table, ref/<Name>; must pass pipeline.CheckName
	File string // a CSV (with a header line) or Parquet file
	// Key is the column that identifies a row. With a key, a load whose result would
	// make two rows of one key valid at once is refused (*RefOverlapError), and a key
	// new to the table is valid since ever. "": neither.
	Key string
	// ValidFromColumn and ValidToColumn name the file's validity columns, for a type-2
	// file; both empty for a snapshot.
	ValidFromColumn, ValidToColumn string
	// ValidFrom is when a snapshot's rows became valid. Zero: the load's time. It must
	// be after every validity bound the table holds already.
	ValidFrom time.Time
}

// RefSpecOf is the spec of reference r of lakectl.yaml loaded from file.
func RefSpecOf(r pipeline.Reference, file string) RefSpec {
	return RefSpec{Name: r.Name, File: file, Key: r.Key, ValidFromColumn: r.ValidFrom, ValidToColumn: r.ValidTo}
}

func (s RefSpec) typeTwo() bool { return s.ValidFromColumn != "" }

// RefLoad says what LoadRef did.
type RefLoad struct {
	Name    string
	File    string
	Rows    int64 // rows in the file
	Version int64
	// ValidFrom is the time a snapshot's new rows are valid from; nil for a type-2 load.
	ValidFrom *time.Time
	Opened    int64 // rows that this load made valid (new keys and new versions)
	Closed    int64 // rows that this load ended (changed or gone)
}

// LoadRef loads the rows of spec.File into reference table ref/<spec.Name> as a new
// version, in one commit: readers see the table before or after, never a mix. The
// table keeps its history (see RefColValidFrom); the commit records the load's
// valid-from time as validFrom. Column types are DuckDB's inference for CSV and the
// file's own for Parquet.
func LoadRef(ctx context.Context, store lake.Store, sess *engine.Session, spec RefSpec, now time.Time) (RefLoad, error) {
	res := RefLoad{Name: spec.Name, File: spec.File, Version: -1}
	if err := pipeline.CheckName("reference table", spec.Name); err != nil {
		return res, err
	}
	if err := loadRefFile(ctx, sess, spec, &res); err != nil {
		return res, fmt.Errorf("load ref %s: %w", spec.Name, err)
	}
	t := lake.NewTable(store, RefRoot(spec.Name))
	snap, err := latestOrNil(ctx, t)
	if err != nil {
		return res, fmt.Errorf("load ref %s: %w", spec.Name, err)
	}
	var next sqlfrag.SQL
	if spec.typeTwo() {
		if !spec.ValidFrom.IsZero() {
			return res, fmt.Errorf("load ref %s: a valid-from time is for snapshots: %s carries its rows' validity in %s and %s",
				spec.Name, spec.File, spec.ValidFromColumn, spec.ValidToColumn)
		}
		next = typeTwoRows(spec)
	} else {
		validFrom := spec.ValidFrom
		if validFrom.IsZero() {
			validFrom = now
		}
		validFrom = validFrom.UTC().Truncate(time.Microsecond)
		res.ValidFrom = &validFrom
		if next, err = snapshotRows(ctx, sess, t, snap, spec, validFrom); err != nil {
			return res, fmt.Errorf("load ref %s: %w", spec.Name, err)
		}
	}
	if _, err := sess.ExecContext(ctx, sqlfrag.Fmt("CREATE OR REPLACE TEMP TABLE %s AS %s", rel(relRefNext), next).String()); err != nil {
		return res, fmt.Errorf("load ref %s: %w", spec.Name, err)
	}
	if err := checkOverlap(ctx, sess, spec); err != nil {
		return res, err
	}
	if err := countChanges(ctx, sess, snap != nil, &res); err != nil {
		return res, fmt.Errorf("load ref %s: %w", spec.Name, err)
	}
	if res.Version, err = commitRef(ctx, sess, t, snap, spec, res.ValidFrom, now); err != nil {
		return res, fmt.Errorf("load ref %s: %w", spec.Name, err)
	}
	return res, nil
}

// loadRefFile reads the file into the temp table ref_file, and checks its columns.
func loadRefFile(ctx context.Context, sess *engine.Session, spec RefSpec, res *RefLoad) error {
	var reader sqlfrag.SQL
	switch strings.ToLower(filepath.Ext(spec.File)) {
	case ".csv":
		reader = sqlfrag.Fmt("read_csv(%s, header = true)", sqlfrag.Str(spec.File))
	case ".parquet":
		reader = sqlfrag.Fmt("read_parquet(%s)", sqlfrag.Str(spec.File))
	default:
		return fmt.Errorf("%s: want a .csv or .parquet file", spec.File)
	}
	if _, err := sess.ExecContext(ctx, sqlfrag.Fmt("CREATE OR REPLACE TEMP TABLE %s AS SELECT * FROM %s", rel(relRefFile), reader).String()); err != nil {
		return fmt.Errorf("read %s: %w", spec.File, err)
	}
	if err := sess.QueryRowContext(ctx, sqlfrag.Fmt("SELECT count(*) FROM %s", rel(relRefFile)).String()).Scan(&res.Rows); err != nil {
		return fmt.Errorf("read %s: %w", spec.File, err)
	}
	cols, err := relColumns(ctx, sess, rel(relRefFile))
	if err != nil {
		return fmt.Errorf("read %s: %w", spec.File, err)
	}
	for _, c := range cols {
		if c == RefColValidFrom || c == RefColValidTo {
			return fmt.Errorf("%s: column %s is lakectl's own; rename it", spec.File, c)
		}
	}
	for _, need := range []string{spec.Key, spec.ValidFromColumn, spec.ValidToColumn} {
		if need != "" && !slices.Contains(cols, need) {
			return fmt.Errorf("%s has no column %s (its columns: %s)", spec.File, need, strings.Join(cols, ", "))
		}
	}
	return nil
}

// typeTwoRows is a type-2 file's rows with its validity columns renamed to the table's.
// An end at or past 9999-12-31, the warehouses' way to say open, is open.
func typeTwoRows(spec RefSpec) sqlfrag.SQL {
	from, to := sqlfrag.Ident(spec.ValidFromColumn), sqlfrag.Ident(spec.ValidToColumn)
	return sqlfrag.Fmt(`SELECT * EXCLUDE (%[1]s, %[2]s), CAST(%[1]s AS TIMESTAMPTZ) AS %[3]s,
  CASE WHEN CAST(%[2]s AS TIMESTAMPTZ) < TIMESTAMPTZ '9999-12-31 00:00:00+00' THEN CAST(%[2]s AS TIMESTAMPTZ) END AS %[4]s
FROM %[5]s`, from, to, sqlfrag.Ident(RefColValidFrom), sqlfrag.Ident(RefColValidTo), rel(relRefFile))
}

// snapshotRows is the table after a snapshot load valid from validFrom: the history
// kept, the current rows the file repeats kept open, the others closed at validFrom,
// and the file's other rows added.
func snapshotRows(ctx context.Context, sess *engine.Session, t *lake.Table, snap *lake.Snapshot, spec RefSpec, validFrom time.Time) (sqlfrag.SQL, error) {
	vf, vt, at := sqlfrag.Ident(RefColValidFrom), sqlfrag.Ident(RefColValidTo), timestampLit(validFrom)
	if snap == nil {
		return sqlfrag.Fmt("SELECT *, CAST(NULL AS TIMESTAMPTZ) AS %s, CAST(NULL AS TIMESTAMPTZ) AS %s FROM %s",
			vf, vt, rel(relRefFile)), nil
	}
	old, err := registerRefTable(ctx, sess, t, snap, "ref_before", spec.Name, engine.TableFiles(t, cache.New(t.Store(), "", 0)))
	if err != nil {
		return sqlfrag.SQL{}, err
	}
	if _, err := sess.ExecContext(ctx, sqlfrag.Fmt("CREATE OR REPLACE TEMP VIEW %s AS SELECT * FROM %s", rel(relRefOld), old).String()); err != nil {
		return sqlfrag.SQL{}, err
	}
	var last *time.Time
	q := sqlfrag.Fmt("SELECT greatest(max(%s), max(%s)) FROM %s", vf, vt, rel(relRefOld))
	if err := sess.QueryRowContext(ctx, q.String()).Scan(&last); err != nil {
		return sqlfrag.SQL{}, fmt.Errorf("read its validity: %w", err)
	}
	if last != nil && !validFrom.After(*last) {
		return sqlfrag.SQL{}, fmt.Errorf("valid from %s: the table holds validity up to %s already; a new version must start after it",
			validFrom.Format(time.RFC3339Nano), last.UTC().Format(time.RFC3339Nano))
	}
	fileCols, err := relColumns(ctx, sess, rel(relRefFile))
	if err != nil {
		return sqlfrag.SQL{}, err
	}
	oldCols, err := relColumns(ctx, sess, rel(relRefOld))
	if err != nil {
		return sqlfrag.SQL{}, err
	}
	oldCols = slices.DeleteFunc(oldCols, func(c string) bool { return c == RefColValidFrom || c == RefColValidTo })
	// A row is repeated when every column is the same; with other columns than the
	// table's (a column added or dropped), no row is.
	same := sqlfrag.Const("false")
	if slices.Equal(slices.Sorted(slices.Values(fileCols)), slices.Sorted(slices.Values(oldCols))) {
		var eq []sqlfrag.SQL
		for _, c := range fileCols {
			eq = append(eq, sqlfrag.Fmt("n.%[1]s IS NOT DISTINCT FROM o.%[1]s", sqlfrag.Ident(c)))
		}
		same = sqlfrag.Join(eq, " AND ")
	}
	isNew := sqlfrag.Const("false")
	if spec.Key != "" {
		k := sqlfrag.Ident(spec.Key)
		isNew = sqlfrag.Fmt("NOT EXISTS (SELECT 1 FROM %s o WHERE o.%s = n.%s)", rel(relRefOld), k, k)
	}
	repeated := sqlfrag.Fmt("EXISTS (SELECT 1 FROM %s n WHERE %s)", rel(relRefFile), same)
	current := sqlfrag.Fmt("(SELECT * FROM %s WHERE %s IS NULL)", rel(relRefOld), vt)
	return sqlfrag.Fmt(`SELECT * FROM %[1]s WHERE %[3]s IS NOT NULL
UNION ALL BY NAME
SELECT * FROM %[4]s o WHERE %[5]s
UNION ALL BY NAME
SELECT * REPLACE (%[6]s AS %[3]s) FROM %[4]s o WHERE NOT %[5]s
UNION ALL BY NAME
SELECT n.*, CASE WHEN %[7]s THEN NULL ELSE %[6]s END AS %[2]s, CAST(NULL AS TIMESTAMPTZ) AS %[3]s
FROM %[8]s n WHERE NOT EXISTS (SELECT 1 FROM %[4]s o WHERE %[9]s)`,
		rel(relRefOld), vf, vt, current, repeated, at, isNew, rel(relRefFile), same), nil
}

// RegisterRefs registers the latest version of each reference table that c joins in
// sess, as ref.<name>, checks that it has the columns c reads (a *RefColumnsError
// otherwise; a *MissingRefError for a table not loaded), and returns the Refs to give
// Query and the version of each table read. Whatever runs the contract (the hourly
// job, a re-enrichment, a live tail) registers references through it, so each reads
// them, history and all, the same way.
func (c *Contract) RegisterRefs(ctx context.Context, sess *engine.Session, store lake.Store, files *cache.Cache) (Refs, map[string]int64, error) {
	rels, versions := map[string]sqlfrag.SQL{}, map[string]int64{}
	snaps := map[string]*lake.Snapshot{}
	for _, e := range c.Table.Enrich {
		if _, ok := rels[e.Ref]; !ok {
			rt := lake.NewTable(store, RefRoot(e.Ref))
			snap, err := rt.Latest(ctx)
			if errors.Is(err, lake.ErrNoTable) {
				return nil, versions, &MissingRefError{Name: e.Ref}
			} else if err != nil {
				return nil, versions, fmt.Errorf("read ref/%s: %w", e.Ref, err)
			}
			if rels[e.Ref], err = registerRefTable(ctx, sess, rt, snap, "ref", e.Ref, engine.TableFiles(rt, files)); err != nil {
				return nil, versions, err
			}
			snaps[e.Ref], versions[e.Ref] = snap, snap.Version
		}
		if err := checkRefColumns(c.Table, e, snaps[e.Ref]); err != nil {
			return nil, versions, err
		}
	}
	return func(name string) sqlfrag.SQL { return rels[name] }, versions, nil
}

// registerRefTable registers snap of reference table t as the view schema.name and
// returns the relation to read it through, which has the validity columns: a table
// loaded before references kept history lacks them, and all its rows are valid since
// ever, until further notice.
func registerRefTable(ctx context.Context, sess *engine.Session, t *lake.Table, snap *lake.Snapshot, schema, name string, files engine.FileResolver) (sqlfrag.SQL, error) {
	tschema, err := snap.Schema()
	if err != nil {
		return sqlfrag.SQL{}, fmt.Errorf("read %s: %w", t, err)
	}
	if err := sess.RegisterTable(ctx, schema, name, snap, files); err != nil {
		return sqlfrag.SQL{}, err
	}
	if _, ok := tschema.Field(RefColValidFrom); ok {
		return sqlfrag.Qualified(schema, name), nil
	}
	return sqlfrag.Fmt("(SELECT *, CAST(NULL AS TIMESTAMPTZ) AS %s, CAST(NULL AS TIMESTAMPTZ) AS %s FROM %s)",
		sqlfrag.Ident(RefColValidFrom), sqlfrag.Ident(RefColValidTo), sqlfrag.Qualified(schema, name)), nil
}

// RefOverlapError says that a load would make two rows of one key valid at once.
type RefOverlapError struct {
	Ref, Key, Value string // the reference table, its key column and the key's value
	// The two ranges, as the table stores them; empty means since ever or open.
	From1, To1, From2, To2 string
}

func (e *RefOverlapError) Error() string {
	show := func(s, open string) string {
		if s == "" {
			return open
		}
		return s
	}
	return fmt.Sprintf("load ref %s: %s %s has overlapping validity: [%s, %s) and [%s, %s)", e.Ref, e.Key, e.Value,
		show(e.From1, "since ever"), show(e.To1, "open"), show(e.From2, "since ever"), show(e.To2, "open"))
}

// Hint says what to fix.
func (e *RefOverlapError) Hint() string {
	return "each key may have one row valid at a time: remove the duplicate rows of the key, or fix their validity"
}

// checkOverlap refuses ref_next when two rows of one key are valid at once (rows
// sorted by start: each must end before the next starts), or a row ends before it
// starts. Without a key there is nothing to check.
func checkOverlap(ctx context.Context, sess *engine.Session, spec RefSpec) error {
	if spec.Key == "" {
		return nil
	}
	k, vf, vt := sqlfrag.Ident(spec.Key), sqlfrag.Ident(RefColValidFrom), sqlfrag.Ident(RefColValidTo)
	q := sqlfrag.Fmt(`SELECT CAST(to_json(%[1]s) AS VARCHAR), coalesce(CAST(%[2]s AS VARCHAR), ''), coalesce(CAST(%[3]s AS VARCHAR), ''),
  coalesce(CAST(next_from AS VARCHAR), ''), coalesce(CAST(next_to AS VARCHAR), '')
FROM (
  SELECT %[1]s, %[2]s, %[3]s,
    lead(%[2]s) OVER w AS next_from, lead(%[3]s) OVER w AS next_to, count(*) OVER (PARTITION BY %[1]s) AS n,
    row_number() OVER w AS i
  FROM %[4]s WHERE %[1]s IS NOT NULL
  WINDOW w AS (PARTITION BY %[1]s ORDER BY coalesce(%[2]s, '-infinity'::TIMESTAMPTZ), %[3]s NULLS LAST)
)
WHERE (i < n AND (%[3]s IS NULL OR %[3]s > coalesce(next_from, '-infinity'::TIMESTAMPTZ)))
   OR %[3]s <= coalesce(%[2]s, '-infinity'::TIMESTAMPTZ)
ORDER BY 1 LIMIT 1`, k, vf, vt, rel(relRefNext))
	e := &RefOverlapError{Ref: spec.Name, Key: spec.Key}
	err := sess.QueryRowContext(ctx, q.String()).Scan(&e.Value, &e.From1, &e.To1, &e.From2, &e.To2)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load ref %s: check validity: %w", spec.Name, err)
	}
	if e.From2 == "" && e.To2 == "" && e.To1 != "" && e.From1 != "" {
		// A row that ends before it starts overlaps nothing but itself.
		e.From2, e.To2 = e.From1, e.To1
	}
	return e
}

// countChanges counts the rows that the load opened and closed.
func countChanges(ctx context.Context, sess *engine.Session, hadTable bool, res *RefLoad) error {
	if res.ValidFrom == nil || !hadTable {
		res.Opened = res.Rows
		return nil
	}
	// The current rows after the load are the ones it kept (current before, and not
	// closed) and the ones it opened.
	var openBefore, openAfter int64
	vt, at := sqlfrag.Ident(RefColValidTo), timestampLit(*res.ValidFrom)
	q := sqlfrag.Fmt("SELECT (SELECT count(*) FROM %[1]s WHERE %[3]s IS NULL), count(*) FILTER (%[3]s IS NULL), count(*) FILTER (%[3]s = %[4]s) FROM %[2]s",
		rel(relRefOld), rel(relRefNext), vt, at)
	if err := sess.QueryRowContext(ctx, q.String()).Scan(&openBefore, &openAfter, &res.Closed); err != nil {
		return err
	}
	res.Opened = openAfter - (openBefore - res.Closed)
	return nil
}

// commitRef writes ref_next as the table's new version: every old file removed,
// the new ones added, in one commit.
func commitRef(ctx context.Context, sess *engine.Session, t *lake.Table, snap *lake.Snapshot, spec RefSpec, validFrom *time.Time, now time.Time) (int64, error) {
	query := sqlfrag.Fmt("SELECT * FROM %s", rel(relRefNext)).String()
	adds, err := sess.WriteFiles(ctx, t, nil, query)
	if err != nil {
		return -1, err
	}
	schema, err := sess.QuerySchema(ctx, query)
	if err != nil {
		return -1, fmt.Errorf("schema: %w", err)
	}
	schemaJSON, err := schema.JSON()
	if err != nil {
		return -1, fmt.Errorf("schema: %w", err)
	}
	tx := t.Begin(snap)
	// The schema may change from one load to the next (a new column), so every load
	// states it; the table ID stays.
	md := lake.Metadata{
		Name:          spec.Name,
		Description:   "Reference table " + spec.Name + ", loaded from " + filepath.Base(spec.File),
		Format:        lake.Format{Provider: "parquet", Options: map[string]string{}},
		SchemaString:  schemaJSON,
		Configuration: map[string]string{},
	}
	if snap != nil {
		md.ID = snap.Metadata.ID
		md.CreatedTime = snap.Metadata.CreatedTime
		for _, a := range snap.Files() {
			tx.Remove(a.RemoveAt(now))
		}
	} else {
		created := now.UnixMilli()
		md.CreatedTime = &created
	}
	if snap == nil || snap.Metadata.SchemaString != schemaJSON {
		tx.SetMetadata(md)
	}
	tx.Add(adds...)
	tx.Operation("WRITE", map[string]any{"mode": "Overwrite"})
	tx.Info("job", "ref load")
	tx.Info("source", filepath.Base(spec.File))
	if validFrom != nil {
		tx.Info("validFrom", validFrom.Format(time.RFC3339Nano))
	} else {
		tx.Info("validity", spec.ValidFromColumn+", "+spec.ValidToColumn)
	}
	return tx.Commit(ctx)
}

// relColumns lists the columns of a relation, in order.
func relColumns(ctx context.Context, sess *engine.Session, relation sqlfrag.SQL) ([]string, error) {
	rows, err := sess.QueryContext(ctx, sqlfrag.Fmt("SELECT column_name FROM (DESCRIBE SELECT * FROM %s)", relation).String())
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", relation, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("columns of %s: %w", relation, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// timestampLit is t as a TIMESTAMPTZ literal, to the microsecond.
func timestampLit(t time.Time) sqlfrag.SQL {
	return sqlfrag.Fmt("CAST(%s AS TIMESTAMPTZ)", sqlfrag.Str(t.UTC().Format("2006-01-02 15:04:05.999999+00")))
}

// checkRefColumns makes sure the reference table snap has every column that
// enrichment e of table t reads, before any SQL names them: DuckDB's error for a
// missing column in the join's window would not say which.
func checkRefColumns(t pipeline.Table, e pipeline.Enrich, snap *lake.Snapshot) error {
	schema, err := snap.Schema()
	if err != nil {
		return fmt.Errorf("read ref/%s: %w", e.Ref, err)
	}
	var have []string
	for _, f := range schema.Fields {
		if f.Name != RefColValidFrom && f.Name != RefColValidTo {
			have = append(have, f.Name)
		}
	}
	var missing []string
	for _, col := range append([]string{e.RefKey}, e.Columns...) {
		// DuckDB matches column names without regard to case.
		if !slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, col) }) {
			missing = append(missing, col)
		}
	}
	if len(missing) > 0 {
		return &RefColumnsError{Table: t.Name, Ref: e.Ref, Missing: missing, Have: have}
	}
	return nil
}
