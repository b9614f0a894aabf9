package gold

import (
	"context"
	"fmt"
	"strings"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/lake"
)

// resultTable holds the day's rows between the model and the commit; audits read it
// as `this`.
const resultTable = "__gold_result"

// auditSamples is how many rows of a failing audit the error shows.
const auditSamples = 5

// build registers the files the day reads, seals the session, runs the model into
// resultTable and runs the audits over it.
func (r *run) build(ctx context.Context) error {
	for _, in := range r.inputs {
		files := in.files(r.day)
		r.sum.FilesRead += len(files)
		if err := in.register(ctx, r.sess, files, r.j.cfg.Cache); err != nil {
			return err
		}
	}
	if err := r.sess.Seal(ctx, engine.SealOptions{}); err != nil {
		return err
	}
	// The model's SELECT, checked by Load, nested as written; rows of other days (a
	// window's) are not the day's.
	q := "CREATE TEMP TABLE " + resultTable + " AS SELECT * FROM (\n" + body(r.m.text) + "\n) AS m WHERE m." +
		sqlfrag.Ident(r.m.Partition).String() + " = " + "CAST(" + sqlfrag.Str(r.day.String()).String() + " AS DATE)"
	if _, err := r.sess.ExecContext(ctx, q); err != nil {
		return &ModelError{File: r.m.File, Line: r.m.sqlLine(), Msg: "run: " + err.Error()}
	}
	if err := r.sess.QueryRowContext(ctx, "SELECT count(*) FROM "+resultTable).Scan(&r.sum.Rows); err != nil {
		return fmt.Errorf("count result: %w", err)
	}
	if _, err := r.sess.ExecContext(ctx, "CREATE TEMP VIEW "+sqlfrag.Ident(thisTable).String()+" AS SELECT * FROM "+resultTable); err != nil {
		return fmt.Errorf("expose the result to audits: %w", err)
	}
	return r.audit(ctx)
}

// audit runs every audit and fails with all that returned rows.
func (r *run) audit(ctx context.Context) error {
	var failed []AuditFailure
	for _, a := range r.m.Audits {
		f, err := r.runAudit(ctx, a)
		if err != nil {
			return &ModelError{File: r.m.File, Line: a.Line, Msg: fmt.Sprintf("audit %s: %v", a.Name, err)}
		}
		if f.Rows > 0 {
			failed = append(failed, f)
		}
	}
	if len(failed) > 0 {
		return &AuditError{Model: r.m.Name, File: r.m.File, Day: r.day, Failed: failed}
	}
	return nil
}

func (r *run) runAudit(ctx context.Context, a Audit) (AuditFailure, error) {
	f := AuditFailure{Name: a.Name, Line: a.Line}
	rows, err := r.sess.QueryUser(ctx, a.sql)
	if err != nil {
		return f, err
	}
	defer rows.Close()
	if f.Columns, err = rows.Columns(); err != nil {
		return f, err
	}
	for rows.Next() {
		f.Rows++
		if len(f.Sample) >= auditSamples {
			continue
		}
		vals := make([]any, len(f.Columns))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return f, err
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			if v == nil {
				row[i] = "NULL"
			} else {
				row[i] = fmt.Sprint(v)
			}
		}
		f.Sample = append(f.Sample, row)
	}
	return f, rows.Err()
}

// AuditError is a day that failed audits: nothing was committed.
type AuditError struct {
	Model  string
	File   string
	Day    Day
	Failed []AuditFailure
}

// AuditFailure is one audit that returned rows.
type AuditFailure struct {
	Name    string
	Line    int
	Columns []string
	Rows    int64      // how many rows it returned
	Sample  [][]string // the first of them
}

func (e *AuditError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "model %s day %s: %d audit(s) failed, nothing committed", e.Model, e.Day, len(e.Failed))
	for _, f := range e.Failed {
		fmt.Fprintf(&b, "\n  audit %s (%s:%d) returned %d row(s):\n    %s", f.Name, e.File, f.Line, f.Rows, strings.Join(f.Columns, " | "))
		for _, row := range f.Sample {
			fmt.Fprintf(&b, "\n    %s", strings.Join(row, " | "))
		}
	}
	return b.String()
}

// commit writes the day's rows and replaces the day's partition in one commit: the
// removes of its old files, the adds, the txn and the lineage.
func (r *run) commit(ctx context.Context, txnVersion int64) error {
	adds, err := r.sess.WriteFiles(ctx, r.gold, []string{r.m.Partition}, "SELECT * FROM "+resultTable)
	if err != nil {
		return err
	}
	r.j.cfg.Hook(HookFilesWritten)
	tx := r.gold.Begin(r.gsnap)
	md, err := r.metadata(ctx)
	if err != nil {
		return err
	}
	if md != nil {
		tx.SetMetadata(*md)
	}
	now := r.j.cfg.Now()
	if r.gsnap != nil {
		for _, a := range r.gsnap.Files() {
			if isDay(a.PartitionValues, r.m.Partition, r.day) {
				tx.Remove(a.RemoveAt(now))
				r.sum.FilesRemoved++
			}
		}
	}
	tx.Add(adds...)
	r.sum.FilesAdded = len(adds)
	tx.ReadPartitions(func(pv map[string]*string) bool { return isDay(pv, r.m.Partition, r.day) })
	if r.sum.Partial {
		tx.SetTxn(partialAppID(r.m, r.day), txnVersion)
	} else {
		tx.SetTxn(AppID(r.m, r.day), txnVersion)
	}
	tx.Operation("WRITE", map[string]any{
		"mode":         "Overwrite",
		"partitionBy":  fmt.Sprintf("[%q]", r.m.Partition),
		"replaceWhere": fmt.Sprintf("%s = '%s'", r.m.Partition, r.day),
	})
	r.lineage(tx)
	v, err := tx.Commit(ctx)
	if err != nil {
		return err
	}
	r.sum.Version = v
	return nil
}

// lineage records what the commit read and changed: the staleness of the day, and
// of the models that read it, is computed from it (see Stale).
func (r *run) lineage(tx *lake.Tx) {
	tx.Info("job", "gold")
	tx.Info("model", r.m.Name)
	tx.Info("day", r.day.String())
	tx.Info("partial", r.sum.Partial)
	tx.Info("modelHash", r.m.Hash())
	tx.Info("inputs", r.sum.Inputs)
	tx.Info("read", r.sum.Read)
	tx.Info("partitions", []map[string]string{{r.m.Partition: r.day.String()}})
}

// metadata is the table's metadata when the commit must set it: for a new table, and
// when the model's columns changed. nil otherwise.
func (r *run) metadata(ctx context.Context) (*lake.Metadata, error) {
	schema, err := r.sess.QuerySchema(ctx, "SELECT * FROM "+resultTable)
	if err != nil {
		return nil, err
	}
	s, err := schema.JSON()
	if err != nil {
		return nil, err
	}
	if r.gsnap != nil {
		if r.gsnap.Metadata.SchemaString == s {
			return nil, nil
		}
		md := r.gsnap.Metadata
		md.SchemaString = s
		return &md, nil
	}
	created := r.j.cfg.Now().UnixMilli()
	desc := r.m.Description
	if desc == "" {
		desc = "Gold: model " + r.m.Name
	}
	return &lake.Metadata{
		Name:             r.m.Name,
		Description:      desc,
		Format:           lake.Format{Provider: "parquet", Options: map[string]string{}},
		SchemaString:     s,
		PartitionColumns: []string{r.m.Partition},
		Configuration:    map[string]string{},
		CreatedTime:      &created,
	}, nil
}
