package silver

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/pipeline"
)

// RefLoad says what LoadRef did.
type RefLoad struct {
	Name    string
	File    string
	Rows    int64
	Version int64
}

// LoadRef replaces the contents of reference table ref/<name> with the rows of file, a
// CSV (with a header line) or Parquet file, in one commit: readers see the old
// contents or the new, never a mix. Column types are DuckDB's inference for CSV and
// the file's own for Parquet. name must pass pipeline.CheckName (a *pipeline.NameError
// otherwise).
func LoadRef(ctx context.Context, store lake.Store, sess *engine.Session, name, file string, now time.Time) (RefLoad, error) {
	res := RefLoad{Name: name, File: file, Version: -1}
	if err := pipeline.CheckName("reference table", name); err != nil {
		return res, err
	}
	var reader sqlfrag.SQL
	switch strings.ToLower(filepath.Ext(file)) {
	case ".csv":
		reader = sqlfrag.Fmt("read_csv(%s, header = true)", sqlfrag.Str(file))
	case ".parquet":
		reader = sqlfrag.Fmt("read_parquet(%s)", sqlfrag.Str(file))
	default:
		return res, fmt.Errorf("load ref %s: %s: want a .csv or .parquet file", name, file)
	}
	query := sqlfrag.Fmt("SELECT * FROM %s", reader).String()
	if err := sess.QueryRowContext(ctx, sqlfrag.Fmt("SELECT count(*) FROM %s", reader).String()).Scan(&res.Rows); err != nil {
		return res, fmt.Errorf("load ref %s: read %s: %w", name, file, err)
	}
	t := lake.NewTable(store, RefRoot(name))
	snap, err := t.Latest(ctx)
	if err != nil && !errors.Is(err, lake.ErrNoTable) {
		return res, fmt.Errorf("load ref %s: %w", name, err)
	}
	if errors.Is(err, lake.ErrNoTable) {
		snap = nil
	}
	adds, err := sess.WriteFiles(ctx, t, nil, query)
	if err != nil {
		return res, fmt.Errorf("load ref %s: %w", name, err)
	}
	schema, err := sess.QuerySchema(ctx, query)
	if err != nil {
		return res, fmt.Errorf("load ref %s: schema: %w", name, err)
	}
	schemaJSON, err := schema.JSON()
	if err != nil {
		return res, fmt.Errorf("load ref %s: schema: %w", name, err)
	}
	tx := t.Begin(snap)
	// The schema may change from one load to the next (a new column), so every load
	// states it; the table ID stays.
	md := lake.Metadata{
		Name:          name,
		Description:   "Reference table " + name + ", loaded from " + filepath.Base(file),
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
	tx.Info("source", filepath.Base(file))
	if res.Version, err = tx.Commit(ctx); err != nil {
		return res, fmt.Errorf("load ref %s: %w", name, err)
	}
	return res, nil
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
		have = append(have, f.Name)
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
