package silver

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/lakectl/lakectl/engine"
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

// silverColumns lists the Silver columns, quoted, optionally prefixed by a table alias.
func (c *Contract) silverColumns(alias string) string {
	cols := make([]string, len(c.Columns))
	for i, col := range c.Columns {
		cols[i] = alias + ident(col.Name)
	}
	return list(cols)
}

// keyJoin is the equality of the key columns of two aliases.
func (c *Contract) keyJoin(a, b string) string {
	var on []string
	for _, k := range c.Table.Key {
		on = append(on, a+"."+ident(k)+" = "+b+"."+ident(k))
	}
	return strings.Join(on, " AND ")
}

// rankRow is the ranking tuple of an alias; the smaller row wins.
func (c *Contract) rankRow(alias string) string {
	pieces := make([]string, 0, 5)
	for _, o := range c.OrderBy() {
		if o == ident(ColTopic) {
			o = "coalesce(" + alias + "." + o + ", '')"
		} else {
			o = alias + "." + o
		}
		pieces = append(pieces, o)
	}
	return "(" + list(pieces) + ")"
}

// merge writes the batch's winners into Silver: it finds the touched partitions, ranks
// the batch's keys against the rows stored there, appends the new winners, rewrites the
// partitions where a stored row lost, and commits once with the run's txn.
func (r *run) merge(ctx context.Context) error {
	c := r.c
	winners := fmt.Sprintf("SELECT %s FROM batch WHERE %s IS NULL AND %s = 1", c.silverColumns(""), ident(colReason), ident(colRank))
	if _, err := r.sess.ExecContext(ctx, "CREATE OR REPLACE TEMP VIEW winners AS "+winners); err != nil {
		return fmt.Errorf("select winners: %w", err)
	}
	touched, err := r.partitions(ctx, "SELECT DISTINCT event_date, event_hour FROM winners")
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
	newRows := "SELECT * FROM winners"
	var rewrite []Partition
	if len(existing) > 0 {
		if newRows, rewrite, err = r.against(ctx, existing); err != nil {
			return err
		}
	}
	write := newRows
	if len(rewrite) > 0 {
		// Keep the stored rows of rewritten partitions, less those that lost.
		write += fmt.Sprintf(" UNION ALL BY NAME SELECT %s FROM silver_existing e"+
			" WHERE EXISTS (SELECT 1 FROM rewrite w WHERE w.event_date = e.event_date AND w.event_hour = e.event_hour)"+
			" AND NOT EXISTS (SELECT 1 FROM hits h WHERE NOT h.existing_wins AND %s)",
			c.silverColumns("e."), c.keyJoin("e", "h"))
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
func (r *run) against(ctx context.Context, existing []lake.Add) (string, []Partition, error) {
	c := r.c
	files := engine.TableFiles(r.silver, r.j.cfg.Cache)
	if err := r.sess.RegisterFiles(ctx, "main", "silver_existing", r.ssnap, existing, files); err != nil {
		return "", nil, err
	}
	var keys []string
	for _, k := range c.Table.Key {
		keys = append(keys, "b."+ident(k))
	}
	hits := fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE hits AS
SELECT %s, e.event_date, e.event_hour, %s <= %s AS existing_wins
FROM silver_existing e JOIN winners b ON %s`, list(keys), c.rankRow("e"), c.rankRow("b"), c.keyJoin("e", "b"))
	if _, err := r.sess.ExecContext(ctx, hits); err != nil {
		return "", nil, fmt.Errorf("rank against stored rows: %w", err)
	}
	rewrite, err := r.partitions(ctx, "SELECT DISTINCT event_date, event_hour FROM hits WHERE NOT existing_wins")
	if err != nil {
		return "", nil, err
	}
	var dropped int64
	if err := r.sess.QueryRowContext(ctx, "SELECT count(*) FROM hits WHERE existing_wins").Scan(&dropped); err != nil {
		return "", nil, fmt.Errorf("count stored duplicates: %w", err)
	}
	r.sum.Duplicates += dropped
	if _, err := r.sess.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE rewrite AS SELECT DISTINCT event_date, event_hour FROM hits WHERE NOT existing_wins"); err != nil {
		return "", nil, fmt.Errorf("list partitions to rewrite: %w", err)
	}
	newRows := fmt.Sprintf("SELECT b.* FROM winners b ANTI JOIN (SELECT * FROM hits WHERE existing_wins) h ON %s", c.keyJoin("b", "h"))
	return newRows, rewrite, nil
}

func (r *run) partitions(ctx context.Context, query string) ([]Partition, error) {
	rows, err := r.sess.QueryContext(ctx, "SELECT strftime(event_date, '%Y-%m-%d'), event_hour FROM ("+query+") ORDER BY 1, 2")
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
func (r *run) countWritten(ctx context.Context, newRows string) error {
	// Late means behind the hour it was ingested in; for an hourly run that is the run's
	// hour, for a replay each row's own.
	q := fmt.Sprintf("SELECT count(*), count(*) FILTER (%s < date_trunc('hour', %s)) FROM (%s)",
		ident(r.c.Table.EventTime), ident(ColIngestedAt), newRows)
	if err := r.sess.QueryRowContext(ctx, q).Scan(&r.sum.Written, &r.sum.Late); err != nil {
		return fmt.Errorf("count rows to write: %w", err)
	}
	return nil
}

// commitSilver writes the rows of query and commits them with the removes of the
// rewritten partitions, the run's txn and its lineage.
func (r *run) commitSilver(ctx context.Context, touched, rewrite []Partition, existing []lake.Add, query string) error {
	adds, err := r.sess.WriteFiles(ctx, r.silver, r.c.PartitionColumns(), query)
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

// metadata describes a new Silver table: its schema is the winners' columns, so the
// reference columns keep the types they have in their tables.
func (r *run) metadata(ctx context.Context) (lake.Metadata, error) {
	schema, err := r.sess.QuerySchema(ctx, "SELECT * FROM winners")
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
