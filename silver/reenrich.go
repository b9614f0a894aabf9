package silver

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/pipeline"
)

// ReenrichSummary says what Reenrich did to one Silver table.
type ReenrichSummary struct {
	Table   string `json:"table"`
	Waiting int64  `json:"waiting"` // rows marked in ColMissingRefs before the run
	Filled  int64  `json:"filled"`  // rows that found every reference row they waited for
	// Partitions are the partitions rewritten: those holding a filled row.
	Partitions []Partition `json:"partitions"`
	Version    int64       `json:"version"` // Silver version committed; -1 when nothing was
	Duration   Seconds     `json:"duration_seconds"`
}

// Reenrich joins the Silver rows of table that wait for a reference row (ColMissingRefs)
// against the reference tables again, with each enrichment's own as_of. A row that
// finds a reference row now gets its columns, and loses that reference from its mark;
// its other columns, and every column of the references it did not wait for, stay as
// they are. The partitions that hold a filled row are rewritten (remove + add) in one
// commit, whose commitInfo lists them as partitions and rewrittenPartitions, so that
// whatever was built from them sees them changed; no other partition is touched. When
// nothing is filled there is no commit. A run killed before its commit leaves only
// unreferenced files; running it again finishes the work.
func (j *Job) Reenrich(ctx context.Context, table string) (ReenrichSummary, error) {
	c, err := j.contract(table)
	if err != nil {
		return ReenrichSummary{}, err
	}
	start := j.cfg.Now()
	var sum ReenrichSummary
	_, err = j.untilNoConflict(func() (Summary, error) {
		var err error
		sum, err = j.reenrichOnce(ctx, c)
		return Summary{}, err
	}, "re-enrichment lost a commit race; re-reading", "table", table)
	sum.Duration = Seconds(j.cfg.Now().Sub(start))
	if err != nil {
		return sum, fmt.Errorf("re-enrich silver.%s: %w", table, err)
	}
	j.log.Info("re-enrichment done", "table", table, "waiting", sum.Waiting, "filled", sum.Filled,
		"partitions", len(sum.Partitions), "version", sum.Version, "duration", time.Duration(sum.Duration))
	return sum, nil
}

func (j *Job) reenrichOnce(ctx context.Context, c *Contract) (ReenrichSummary, error) {
	sum := ReenrichSummary{Table: c.Table.Name, Version: -1, Partitions: []Partition{}}
	r := &run{j: j, c: c, commitID: uuid.NewString(), job: "silver reenrich", inputs: map[string]int64{}}
	r.silver = lake.NewTable(j.cfg.Store, Root(c.Table.Name), lake.WithLogger(j.log))
	var err error
	if r.ssnap, err = latestOwned(ctx, r.silver); err != nil || r.ssnap == nil {
		return sum, err
	}
	marked, err := markedFiles(r.ssnap)
	if err != nil || len(marked) == 0 {
		return sum, err
	}
	if r.sess, err = engine.Open(ctx, j.cfg.Engine); err != nil {
		return sum, err
	}
	defer r.sess.Close()
	files := engine.TableFiles(r.silver, j.cfg.Cache)
	if err := r.sess.RegisterFiles(ctx, "main", relSilverExisting, r.ssnap, marked, files); err != nil {
		return sum, err
	}
	id := sqlfrag.Ident
	markedRows := sqlfrag.Fmt("CREATE OR REPLACE TEMP TABLE %s AS SELECT * FROM %s WHERE %s IS NOT NULL",
		rel(relMarked), rel(relSilverExisting), id(ColMissingRefs))
	if _, err := r.sess.ExecContext(ctx, markedRows.String()); err != nil {
		return sum, fmt.Errorf("read the rows waiting for a reference: %w", err)
	}
	refs, err := r.registerRefs(ctx)
	if err != nil {
		return sum, err
	}
	filled := sqlfrag.Fmt("CREATE OR REPLACE TEMP TABLE %s AS %s", rel(relFilled), c.reenrichQuery(rel(relMarked), refs))
	if _, err := r.sess.ExecContext(ctx, filled.String()); err != nil {
		return sum, fmt.Errorf("enrich the waiting rows again: %w", err)
	}
	count := sqlfrag.Fmt("SELECT count(*), count(*) FILTER (%s) FROM %s", colFilled, rel(relFilled))
	if err := r.sess.QueryRowContext(ctx, count.String()).Scan(&sum.Waiting, &sum.Filled); err != nil {
		return sum, fmt.Errorf("count filled rows: %w", err)
	}
	if sum.Filled == 0 {
		return sum, nil
	}
	rewrite, err := r.partitions(ctx, sqlfrag.Fmt("SELECT DISTINCT event_date, event_hour FROM %s WHERE %s", rel(relFilled), colFilled))
	if err != nil {
		return sum, err
	}
	if sum.Version, err = r.commitFilled(ctx, rewrite); err != nil {
		return sum, err
	}
	sum.Partitions = rewrite
	j.cfg.Hook(HookCommitted)
	return sum, nil
}

// commitFilled rewrites the partitions in rewrite: their stored rows, with the filled
// ones in place of the rows they were, in one commit.
func (r *run) commitFilled(ctx context.Context, rewrite []Partition) (int64, error) {
	c, in := r.c, partitionSet(rewrite)
	var old []lake.Add
	for _, a := range r.ssnap.Files() {
		if p, ok := partitionOf(a); ok && in[p] {
			old = append(old, a)
		}
	}
	if err := r.sess.RegisterFiles(ctx, "main", relReenrichFiles, r.ssnap, old, engine.TableFiles(r.silver, r.j.cfg.Cache)); err != nil {
		return -1, err
	}
	f := sqlfrag.Const("f")
	write := sqlfrag.Fmt(`SELECT %s FROM %s e
WHERE NOT EXISTS (SELECT 1 FROM %s f WHERE f.%s AND %s AND f.event_date = e.event_date AND f.event_hour = e.event_hour)
UNION ALL BY NAME
SELECT %s FROM %s WHERE %s`,
		c.silverColumns(aliasExisting), rel(relReenrichFiles), rel(relFilled), colFilled, c.keyJoin(aliasExisting, f),
		c.silverColumns(sqlfrag.SQL{}), rel(relFilled), colFilled)
	adds, err := r.sess.WriteFiles(ctx, r.silver, c.PartitionColumns(), write.String())
	if err != nil {
		return -1, err
	}
	r.j.cfg.Hook(HookFilesWritten)
	tx := r.silver.Begin(r.ssnap)
	now := r.j.cfg.Now()
	for _, a := range old {
		tx.Remove(a.RemoveAt(now))
	}
	tx.Add(adds...)
	tx.ReadPartitions(func(pv map[string]*string) bool {
		p, ok := partitionOf(lake.Add{PartitionValues: pv})
		return ok && in[p]
	})
	tx.Operation("UPDATE", map[string]any{"predicate": ColMissingRefs + " IS NOT NULL"})
	r.inputs[Root(c.Table.Name)] = r.ssnap.Version
	r.lineage(tx, rewrite, rewrite)
	return tx.Commit(ctx)
}

// markedFiles are the files of snap that may hold rows waiting for a reference: all
// but those whose statistics say their ColMissingRefs is NULL throughout (a file
// written before the column existed has no such statistic, nor marked rows); none
// when the table has no such column.
func markedFiles(snap *lake.Snapshot) ([]lake.Add, error) {
	schema, err := snap.Schema()
	if err != nil {
		return nil, err
	}
	if _, ok := schema.Field(ColMissingRefs); !ok {
		return nil, nil
	}
	var out []lake.Add
	for _, a := range snap.Files() {
		st, ok, err := a.ParseStats()
		if err == nil && ok {
			nulls, has := st.NullCount[ColMissingRefs]
			if !has {
				continue
			}
			if n, isNum := nulls.(float64); isNum && int64(n) == st.NumRecords {
				continue
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// colFilled, in the re-enrichment's result, says whether a row found a reference row
// it waited for.
var colFilled = sqlfrag.Ident("_filled")

// colWasMissing is a row's ColMissingRefs before the re-enrichment.
var colWasMissing = sqlfrag.Ident("_was_missing")

// reenrichQuery is the re-enrichment of src, rows of the Silver table: the Silver
// columns, with the enrichments each row waited for joined again, and colFilled.
func (c *Contract) reenrichQuery(src sqlfrag.SQL, refs Refs) sqlfrag.SQL {
	var b sqlfrag.Builder
	k := sqlfrag.Const
	byName := func(f compiledField) sqlfrag.SQL { return sqlfrag.Ident(f.Name) }
	redo := func(i int) sqlfrag.SQL {
		e := c.Table.Enrich[i]
		if e.OnMissing != pipeline.MissingKeep {
			return k("false")
		}
		return sqlfrag.Fmt("list_contains(string_split(p.%s, ','), %s)", sqlfrag.Ident(ColMissingRefs), sqlfrag.Str(e.Ref))
	}
	b.Line(0, k("WITH "), sqlfrag.Ident("enriched"), k(" AS ("))
	c.enrich(&b, refs, enrichInput{from: src, value: byName, redo: redo})
	b.Line(0, k(")"))
	missing := c.missingRefs(byName)
	cols := make([]sqlfrag.SQL, len(c.Columns))
	for i, col := range c.Columns {
		cols[i] = sqlfrag.Ident(col.Name)
		if col.Name == ColMissingRefs {
			cols[i] = sqlfrag.Fmt("%s AS %s", missing, cols[i])
		}
	}
	b.Line(0, k("SELECT "), sqlfrag.List(cols...), k(","))
	b.Line(1, missing, k(" IS DISTINCT FROM "), colWasMissing, k(" AS "), colFilled)
	b.Line(0, k("FROM "), sqlfrag.Ident("enriched"))
	return b.SQL()
}

// Waiting counts, per reference table, the rows of Silver table `table` that wait for
// a row of it (ColMissingRefs); a row waiting for two counts for each. An absent
// table waits for nothing.
func (j *Job) Waiting(ctx context.Context, table string) (map[string]int64, error) {
	if _, err := j.table(table); err != nil {
		return nil, err
	}
	st := lake.NewTable(j.cfg.Store, Root(table))
	snap, err := latestOrNil(ctx, st)
	if err != nil || snap == nil {
		return map[string]int64{}, err
	}
	marked, err := markedFiles(snap)
	out := map[string]int64{}
	if err != nil || len(marked) == 0 {
		return out, err
	}
	sess, err := engine.Open(ctx, j.cfg.Engine)
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	if err := sess.RegisterFiles(ctx, "main", relMarked, snap, marked, engine.TableFiles(st, j.cfg.Cache)); err != nil {
		return nil, err
	}
	rows, err := sess.QueryContext(ctx, sqlfrag.Fmt("SELECT ref, count(*) FROM (SELECT unnest(string_split(%s, ',')) AS ref FROM %s WHERE %s IS NOT NULL) GROUP BY ref",
		sqlfrag.Ident(ColMissingRefs), rel(relMarked), sqlfrag.Ident(ColMissingRefs)).String())
	if err != nil {
		return nil, fmt.Errorf("count silver.%s rows waiting for a reference: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var ref string
		var n int64
		if err := rows.Scan(&ref, &n); err != nil {
			return nil, fmt.Errorf("count silver.%s rows waiting for a reference: %w", table, err)
		}
		out[ref] = n
	}
	return out, rows.Err()
}
