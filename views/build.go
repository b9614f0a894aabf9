package views

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/gold"
	"github.com/lakectl/lakectl/lake"
)

// resultTable holds the refresh's rows between the view's SELECT and the commit.
const resultTable = "__view_result"

// build registers the files the refresh reads, seals the session and runs the view
// into resultTable: of an incremental refresh, only the rows of the days it
// recomputes.
func (r *refresh) build(ctx context.Context) error {
	for _, in := range r.inputs {
		if r.liveTail && (in.name.Schema == "silver" || in.tailOf != "" || in.joinedByTail) {
			continue // registered with their tail below
		}
		if err := r.sess.RegisterFiles(ctx, in.name.Schema, in.name.Name, in.snap, in.files(r.days), engine.TableFiles(in.table, r.j.cfg.Cache)); err != nil {
			return err
		}
	}
	for _, bronze := range r.inputs {
		if bronze.tailOf == "" {
			continue
		}
		for _, stored := range r.inputs {
			if stored.name == (engine.TableName{Schema: "silver", Name: bronze.tailOf}) {
				if err := r.registerTail(ctx, stored, bronze); err != nil {
					return err
				}
			}
		}
	}
	if err := r.sess.Seal(ctx, engine.SealOptions{}); err != nil {
		return err
	}
	// The view's SELECT, checked by Load, nested as written.
	q := sqlfrag.Const("CREATE TEMP TABLE "+resultTable+" AS SELECT * FROM (\n").String() + r.v.body() + "\n) AS v"
	if r.sum.Mode == ModeIncremental {
		q += " WHERE " + r.dayFilter("v").String()
	}
	if _, err := r.sess.ExecContext(ctx, q); err != nil {
		return &gold.ModelError{File: r.v.File, Line: r.v.sqlLine(), Msg: "refresh: " + err.Error()}
	}
	if err := r.checkTime(ctx); err != nil {
		return err
	}
	if err := r.checkColumns(ctx); err != nil {
		return err
	}
	if err := r.sess.QueryRowContext(ctx, "SELECT count(*) FROM "+resultTable).Scan(&r.sum.Rows); err != nil {
		return fmt.Errorf("count result: %w", err)
	}
	return nil
}

// dayFilter keeps the rows of alias whose time column falls on a recomputed day.
func (r *refresh) dayFilter(alias string) sqlfrag.SQL {
	return sqlfrag.Concat(sqlfrag.Const("CAST("), sqlfrag.Qualified(alias, r.v.Time),
		sqlfrag.Const(" AS DATE) IN (SELECT CAST(unnest("), sqlfrag.StrList(r.days), sqlfrag.Const(") AS DATE))"))
}

// checkTime refuses a time column that the result lacks or that is not a DATE or a
// TIMESTAMP: buckets are days or instants.
func (r *refresh) checkTime(ctx context.Context) error {
	if r.v.Time == "" {
		return nil
	}
	var typ string
	err := r.sess.QueryRowContext(ctx, "SELECT data_type FROM duckdb_columns() WHERE table_name = $1 AND lower(column_name) = lower($2)",
		resultTable, r.v.Time).Scan(&typ)
	if err != nil {
		return &gold.ModelError{File: r.v.File, Line: r.v.Line("time"), Msg: fmt.Sprintf("time column %s is not in the result of the SELECT", r.v.Time)}
	}
	if typ != "DATE" && !strings.HasPrefix(typ, "TIMESTAMP") {
		return &gold.ModelError{File: r.v.File, Line: r.v.Line("time"), Msg: fmt.Sprintf("time column %s is %s: it must be a DATE or a TIMESTAMP", r.v.Time, typ)}
	}
	return nil
}

// checkColumns refuses result columns that Delta cannot store, naming the view's
// file and line, before anything is written.
func (r *refresh) checkColumns(ctx context.Context) error {
	rows, err := r.sess.QueryContext(ctx, "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = $1 ORDER BY column_index", resultTable)
	if err != nil {
		return fmt.Errorf("result columns: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return fmt.Errorf("result columns: %w", err)
		}
		if _, err := engine.DeltaType(typ); err != nil {
			return &gold.ModelError{File: r.v.File, Line: r.v.sqlLine(), Msg: fmt.Sprintf("column %s: %v; cast it, e.g. CAST(... AS BIGINT)", name, err)}
		}
	}
	return rows.Err()
}

// commit writes the result and replaces the view's rows in one commit: of a full
// refresh every file, of an incremental one the files of the recomputed days. It
// records refl, the time through which the refresh reflects the events, when
// hasRefl.
func (r *refresh) commit(ctx context.Context, refl reflection, hasRefl bool) error {
	var parts []string
	if r.v.Time != "" {
		parts = []string{r.v.Time}
	}
	adds, err := r.sess.WriteFiles(ctx, r.table, parts, "SELECT * FROM "+resultTable)
	if err != nil {
		return err
	}
	r.j.cfg.Hook(HookFilesWritten)
	tx := r.table.Begin(r.snap)
	md, err := r.metadata(ctx, parts)
	if err != nil {
		return err
	}
	if md != nil {
		tx.SetMetadata(*md)
	}
	now := r.j.cfg.Now()
	recomputed := func(pv map[string]*string) bool {
		if r.sum.Mode == ModeFull {
			return true
		}
		v := pv[r.v.Time]
		return v != nil && len(*v) >= 10 && slices.Contains(r.days, (*v)[:10])
	}
	var written []map[string]string
	if r.snap != nil {
		for _, a := range r.snap.Files() {
			if recomputed(a.PartitionValues) {
				tx.Remove(a.RemoveAt(now))
				r.sum.FilesRemoved++
				written = append(written, partitionOf(a, parts))
			}
		}
	}
	tx.Add(adds...)
	for _, a := range adds {
		written = append(written, partitionOf(a, parts))
	}
	r.sum.FilesAdded = len(adds)
	tx.ReadPartitions(recomputed)
	tx.Operation("WRITE", map[string]any{"mode": "Overwrite"})
	tx.Info("job", jobName)
	tx.Info("view", r.v.Name)
	tx.Info("viewHash", r.v.Hash())
	tx.Info("mode", r.sum.Mode)
	tx.Info("reason", r.sum.Reason)
	tx.Info("inputs", r.sum.Inputs)
	if r.sum.Mode == ModeIncremental {
		tx.Info("days", r.days)
	}
	if r.liveTail {
		tx.Info("liveTailFiles", r.sum.TailFiles)
	}
	if hasRefl {
		tx.Info("reflectsThrough", refl.through.UTC().Format(time.RFC3339Nano))
		tx.Info("ingestedThrough", refl.ingested.UTC().Format(time.RFC3339Nano))
	}
	if parts != nil {
		tx.Info("partitions", dedupe(written))
	}
	tx.Info("rows", r.sum.Rows)
	tx.Info("durationMs", r.j.cfg.Now().Sub(r.start).Milliseconds())
	v, err := tx.Commit(ctx)
	if err != nil {
		return err
	}
	r.sum.Version = v
	return nil
}

// metadata is the table's metadata when the commit must set it: for a new table, and
// when the view's columns or partitioning changed. nil otherwise.
func (r *refresh) metadata(ctx context.Context, parts []string) (*lake.Metadata, error) {
	schema, err := r.sess.QuerySchema(ctx, "SELECT * FROM "+resultTable)
	if err != nil {
		return nil, err
	}
	s, err := schema.JSON()
	if err != nil {
		return nil, err
	}
	if parts == nil {
		parts = []string{}
	}
	if r.snap != nil {
		md := r.snap.Metadata
		if md.SchemaString == s && strings.Join(md.PartitionColumns, ",") == strings.Join(parts, ",") {
			return nil, nil
		}
		md.SchemaString, md.PartitionColumns = s, parts
		return &md, nil
	}
	created := r.j.cfg.Now().UnixMilli()
	return &lake.Metadata{
		Name:             r.v.Name,
		Description:      r.v.Description,
		Format:           lake.Format{Provider: "parquet", Options: map[string]string{}},
		SchemaString:     s,
		PartitionColumns: parts,
		Configuration:    map[string]string{},
		CreatedTime:      &created,
	}, nil
}

func partitionOf(a lake.Add, parts []string) map[string]string {
	out := map[string]string{}
	for _, p := range parts {
		if v := a.PartitionValues[p]; v != nil {
			out[p] = *v
		}
	}
	return out
}

func dedupe(ps []map[string]string) []map[string]string {
	seen := map[string]bool{}
	var out []map[string]string
	for _, p := range ps {
		k := fmt.Sprint(p)
		if !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	return out
}
