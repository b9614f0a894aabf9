package silver

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/lake"
)

// Partition is one (event_date, event_hour) partition of a Silver table.
type Partition struct {
	Date string `json:"event_date"` // 2006-01-02
	Hour int    `json:"event_hour"`
}

func (p Partition) String() string { return fmt.Sprintf("%s/%02d", p.Date, p.Hour) }

// partitionOf reads a data file's partition; ok is false for files outside the layout.
func partitionOf(a lake.Add) (Partition, bool) {
	d, h := a.PartitionValues[ColEventDate], a.PartitionValues[ColEventHour]
	if d == nil || h == nil {
		return Partition{}, false
	}
	n, err := strconv.Atoi(*h)
	if err != nil {
		return Partition{}, false
	}
	return Partition{Date: *d, Hour: n}, true
}

func partitionSet(ps []Partition) map[Partition]bool {
	m := make(map[Partition]bool, len(ps))
	for _, p := range ps {
		m[p] = true
	}
	return m
}

// silverColumns lists the Silver columns, quoted, qualified by alias unless it is
// empty.
func (c *Contract) silverColumns(alias sqlfrag.SQL) sqlfrag.SQL {
	cols := make([]sqlfrag.SQL, len(c.Columns))
	for i, col := range c.Columns {
		cols[i] = qualify(alias, col.Name)
	}
	return sqlfrag.List(cols...)
}

// storedColumns lists the Silver columns that the stored table has, qualified by
// alias: a table written before a column existed (see addedColumns) lacks it, and
// UNION ALL BY NAME reads it as NULL for the stored rows.
func (r *run) storedColumns(alias sqlfrag.SQL) (sqlfrag.SQL, error) {
	schema, err := r.ssnap.Schema()
	if err != nil {
		return sqlfrag.SQL{}, err
	}
	var cols []sqlfrag.SQL
	for _, col := range r.c.Columns {
		if _, ok := schema.Field(col.Name); ok {
			cols = append(cols, qualify(alias, col.Name))
		}
	}
	return sqlfrag.List(cols...), nil
}

// qualify is alias.col, or col when alias is empty.
func qualify(alias sqlfrag.SQL, col string) sqlfrag.SQL {
	if alias.IsZero() {
		return sqlfrag.Ident(col)
	}
	return sqlfrag.Fmt("%s.%s", alias, sqlfrag.Ident(col))
}

// keyJoin is the equality of the key columns of two aliases.
func (c *Contract) keyJoin(a, b sqlfrag.SQL) sqlfrag.SQL {
	var on []sqlfrag.SQL
	for _, k := range c.Table.Key {
		on = append(on, sqlfrag.Fmt("%s = %s", qualify(a, k), qualify(b, k)))
	}
	return sqlfrag.Join(on, " AND ")
}

// rankRow is the ranking tuple of an alias; the smaller row wins.
func (c *Contract) rankRow(alias sqlfrag.SQL) sqlfrag.SQL {
	pieces := make([]sqlfrag.SQL, 0, 5)
	for _, o := range c.orderBy() {
		pieces = append(pieces, rankColumn(alias, o))
	}
	return sqlfrag.Fmt("(%s)", sqlfrag.List(pieces...))
}

// merge writes the batch's winners into Silver: it finds the touched partitions, ranks
// the batch's keys against the rows stored there, appends the new winners, rewrites the
// partitions where a stored row lost, and commits once with the run's txn.
func (r *run) merge(ctx context.Context) error {
	c := r.c
	winners := sqlfrag.Fmt("CREATE OR REPLACE TEMP VIEW %s AS SELECT %s FROM %s WHERE %s IS NULL AND %s = 1",
		rel(relWinners), c.silverColumns(sqlfrag.SQL{}), rel(relBatch), sqlfrag.Ident(colReason), sqlfrag.Ident(colRank))
	if _, err := r.sess.ExecContext(ctx, winners.String()); err != nil {
		return fmt.Errorf("select winners: %w", err)
	}
	touched, err := r.partitions(ctx, sqlfrag.Fmt("SELECT DISTINCT event_date, event_hour FROM %s", rel(relWinners)))
	if err != nil {
		return err
	}
	var existing []lake.Add
	if r.ssnap != nil {
		in := partitionSet(touched)
		for _, a := range r.ssnap.Files() {
			if p, ok := partitionOf(a); ok && in[p] {
				existing = append(existing, a)
			}
		}
	}
	newRows := sqlfrag.Fmt("SELECT * FROM %s", rel(relWinners))
	var rewrite []Partition
	if len(existing) > 0 {
		if newRows, rewrite, err = r.against(ctx, existing); err != nil {
			return err
		}
	}
	write := newRows
	if len(rewrite) > 0 {
		stored, err := r.storedColumns(aliasExisting)
		if err != nil {
			return err
		}
		// Keep the stored rows of rewritten partitions, less those that lost.
		write = sqlfrag.Fmt("%s UNION ALL BY NAME SELECT %s FROM %s e"+
			" WHERE EXISTS (SELECT 1 FROM %s w WHERE w.event_date = e.event_date AND w.event_hour = e.event_hour)"+
			" AND NOT EXISTS (SELECT 1 FROM %s h WHERE NOT h.existing_wins AND %s)",
			newRows, stored, rel(relSilverExisting), rel(relRewrite), rel(relHits),
			c.keyJoin(aliasExisting, aliasHit))
	}
	if err := r.countWritten(ctx, newRows); err != nil {
		return err
	}
	if r.skipEmpty && r.sum.Written == 0 && len(rewrite) == 0 {
		return nil
	}
	return r.commitSilver(ctx, touched, rewrite, existing, write)
}

// against ranks the batch's winners against the rows stored in the touched partitions.
// It reads only their key and ranking columns, and the full rows only of partitions it
// must rewrite. It returns the query of batch rows to write and the partitions to
// rewrite.
func (r *run) against(ctx context.Context, existing []lake.Add) (sqlfrag.SQL, []Partition, error) {
	c := r.c
	files := engine.TableFiles(r.silver, r.j.cfg.Cache)
	if err := r.sess.RegisterFiles(ctx, "main", relSilverExisting, r.ssnap, existing, files); err != nil {
		return sqlfrag.SQL{}, nil, err
	}
	var keys []sqlfrag.SQL
	for _, k := range c.Table.Key {
		keys = append(keys, qualify(aliasBatch, k))
	}
	hits := sqlfrag.Fmt(`CREATE OR REPLACE TEMP TABLE %s AS
SELECT %s, e.event_date, e.event_hour, %s <= %s AS existing_wins
FROM %s e JOIN %s b ON %s`, rel(relHits), sqlfrag.List(keys...), c.rankRow(aliasExisting), c.rankRow(aliasBatch),
		rel(relSilverExisting), rel(relWinners), c.keyJoin(aliasExisting, aliasBatch))
	if _, err := r.sess.ExecContext(ctx, hits.String()); err != nil {
		return sqlfrag.SQL{}, nil, fmt.Errorf("rank against stored rows: %w", err)
	}
	lost := sqlfrag.Fmt("SELECT DISTINCT event_date, event_hour FROM %s WHERE NOT existing_wins", rel(relHits))
	rewrite, err := r.partitions(ctx, lost)
	if err != nil {
		return sqlfrag.SQL{}, nil, err
	}
	var dropped int64
	count := sqlfrag.Fmt("SELECT count(*) FROM %s WHERE existing_wins", rel(relHits))
	if err := r.sess.QueryRowContext(ctx, count.String()).Scan(&dropped); err != nil {
		return sqlfrag.SQL{}, nil, fmt.Errorf("count stored duplicates: %w", err)
	}
	r.sum.Duplicates += dropped
	if _, err := r.sess.ExecContext(ctx, sqlfrag.Fmt("CREATE OR REPLACE TEMP TABLE %s AS %s", rel(relRewrite), lost).String()); err != nil {
		return sqlfrag.SQL{}, nil, fmt.Errorf("list partitions to rewrite: %w", err)
	}
	newRows := sqlfrag.Fmt("SELECT b.* FROM %s b ANTI JOIN (SELECT * FROM %s WHERE existing_wins) h ON %s",
		rel(relWinners), rel(relHits), c.keyJoin(aliasBatch, aliasHit))
	return newRows, rewrite, nil
}

func (r *run) partitions(ctx context.Context, query sqlfrag.SQL) ([]Partition, error) {
	q := sqlfrag.Fmt("SELECT strftime(event_date, '%%Y-%%m-%%d'), event_hour FROM (%s) ORDER BY 1, 2", query)
	rows, err := r.sess.QueryContext(ctx, q.String())
	if err != nil {
		return nil, fmt.Errorf("list partitions: %w", err)
	}
	defer rows.Close()
	var out []Partition
	for rows.Next() {
		var p Partition
		if err := rows.Scan(&p.Date, &p.Hour); err != nil {
			return nil, fmt.Errorf("list partitions: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// countWritten counts the batch rows that go to Silver, and the late ones among them.
func (r *run) countWritten(ctx context.Context, newRows sqlfrag.SQL) error {
	// Late means behind the hour it was ingested in; for an hourly run that is the run's
	// hour, for a replay each row's own.
	q := sqlfrag.Fmt("SELECT count(*), count(*) FILTER (%s < date_trunc('hour', %s)) FROM (%s)",
		sqlfrag.Ident(r.c.Table.EventTime), sqlfrag.Ident(ColIngestedAt), newRows)
	if err := r.sess.QueryRowContext(ctx, q.String()).Scan(&r.sum.Written, &r.sum.Late); err != nil {
		return fmt.Errorf("count rows to write: %w", err)
	}
	return nil
}

// commitSilver writes the rows of query and commits them with the removes of the
// rewritten partitions, the run's txn and its lineage.
func (r *run) commitSilver(ctx context.Context, touched, rewrite []Partition, existing []lake.Add, query sqlfrag.SQL) error {
	adds, err := r.sess.WriteFiles(ctx, r.silver, r.c.PartitionColumns(), query.String())
	if err != nil {
		return err
	}
	r.j.cfg.Hook(HookFilesWritten)
	tx := r.silver.Begin(r.ssnap)
	if r.ssnap == nil {
		md, err := r.metadata(ctx)
		if err != nil {
			return err
		}
		tx.SetMetadata(md)
	} else if md, added, err := r.addedColumns(ctx); err != nil {
		return err
	} else if added {
		tx.SetMetadata(md)
	}
	now := r.j.cfg.Now()
	re := partitionSet(rewrite)
	for _, a := range existing {
		if p, _ := partitionOf(a); re[p] {
			tx.Remove(a.RemoveAt(now))
		}
	}
	tx.Add(adds...)
	in := partitionSet(touched)
	tx.ReadPartitions(func(pv map[string]*string) bool {
		p, ok := partitionOf(lake.Add{PartitionValues: pv})
		return ok && in[p]
	})
	tx.SetTxn(r.appID, r.txnVersion)
	op := "WRITE"
	if len(rewrite) > 0 {
		op = "MERGE"
	}
	tx.Operation(op, map[string]any{"mode": "Append", "partitionBy": `["event_date","event_hour"]`})
	r.lineage(tx, touched, rewrite)
	v, err := tx.Commit(ctx)
	if err != nil {
		return err
	}
	r.sum.Version = v
	r.sum.Partitions = touched
	r.sum.Rewritten = rewrite
	return nil
}

// lineage records what the commit read and changed, for Gold's staleness tracking.
func (r *run) lineage(tx *lake.Tx, touched, rewrite []Partition) {
	tx.Info("job", r.job)
	tx.Info("table", r.c.Table.Name)
	if r.job == "silver" {
		tx.Info("ingestHour", r.hour.String())
		tx.Info("sealed", r.sealed)
	}
	tx.Info("inputs", r.inputs)
	tx.Info("partitions", touched)
	if len(rewrite) > 0 {
		tx.Info("rewrittenPartitions", rewrite)
	}
	tx.Info("runId", r.commitID)
}

// addedColumns is the table's metadata with the columns the contract has and the
// table lacks appended, such as ColMissingRefs in a table written before it existed;
// added is false when it lacks none. Files written before read them as NULL.
func (r *run) addedColumns(ctx context.Context) (md lake.Metadata, added bool, err error) {
	have, err := r.ssnap.Schema()
	if err != nil {
		return md, false, err
	}
	want, err := r.sess.QuerySchema(ctx, sqlfrag.Fmt("SELECT * FROM %s", rel(relWinners)).String())
	if err != nil {
		return md, false, fmt.Errorf("schema of silver.%s: %w", r.c.Table.Name, err)
	}
	evolved := *have
	evolved.Fields = slices.Clone(have.Fields)
	for _, f := range want.Fields {
		if _, ok := have.Field(f.Name); !ok {
			f.Nullable = true
			evolved.Fields = append(evolved.Fields, f)
			added = true
		}
	}
	if !added {
		return md, false, nil
	}
	md = r.ssnap.Metadata
	if md.SchemaString, err = evolved.JSON(); err != nil {
		return md, false, err
	}
	return md, true, nil
}

// metadata describes a new Silver table: its schema is the winners' columns, so the
// reference columns keep the types they have in their tables.
func (r *run) metadata(ctx context.Context) (lake.Metadata, error) {
	schema, err := r.sess.QuerySchema(ctx, sqlfrag.Fmt("SELECT * FROM %s", rel(relWinners)).String())
	if err != nil {
		return lake.Metadata{}, fmt.Errorf("schema of silver.%s: %w", r.c.Table.Name, err)
	}
	for i := range schema.Fields {
		f := &schema.Fields[i]
		if col := slices.IndexFunc(r.c.Columns, func(c Column) bool { return c.Name == f.Name }); col >= 0 {
			f.Nullable = r.c.Columns[col].Nullable
		}
	}
	s, err := schema.JSON()
	if err != nil {
		return lake.Metadata{}, err
	}
	created := r.j.cfg.Now().UnixMilli()
	desc := r.c.Table.Description
	if desc == "" {
		desc = "Silver: clean events of stream " + r.c.Table.Source
	}
	return lake.Metadata{
		Name:             r.c.Table.Name,
		Description:      desc,
		Format:           lake.Format{Provider: "parquet", Options: map[string]string{}},
		SchemaString:     s,
		PartitionColumns: r.c.PartitionColumns(),
		Configuration:    map[string]string{},
		CreatedTime:      &created,
	}, nil
}
