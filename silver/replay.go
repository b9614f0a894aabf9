package silver

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/lake"
)

// ReplayAppID is the txn appId of replays of quarantine/<table> into Silver; its
// version is the quarantine version a replay read.
func ReplayAppID(table string) string { return "silver/" + table + "/replay" }

// ReasonCount is one line of a quarantine listing.
type ReasonCount struct {
	Reason string
	Rows   int64
	First  time.Time // earliest ingest time among the rows
	Last   time.Time
	Sample string // the payload of one row, as text
}

// ListQuarantine counts the rows of quarantine/<table> by reason, most frequent first.
// An absent quarantine table is an empty list.
func (j *Job) ListQuarantine(ctx context.Context, table string) ([]ReasonCount, error) {
	if _, err := j.table(table); err != nil {
		return nil, err
	}
	qt := lake.NewTable(j.cfg.Store, QuarantineRoot(table))
	qsnap, err := latestOrNil(ctx, qt)
	if err != nil || qsnap == nil {
		return nil, err
	}
	sess, err := engine.Open(ctx, j.cfg.Engine)
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	if err := sess.RegisterTable(ctx, "quarantine", table, qsnap, engine.TableFiles(qt, j.cfg.Cache)); err != nil {
		return nil, err
	}
	// The sample is shown as text when it is UTF-8, with escapes when it is not.
	rows, err := sess.QueryContext(ctx, sqlfrag.Fmt(`SELECT reason, n, first, last, coalesce(TRY(decode(sample)), CAST(sample AS VARCHAR))
FROM (SELECT reason, count(*) AS n, min(ingested_at) AS first, max(ingested_at) AS last, arg_min(payload, ingested_at) AS sample
  FROM %s GROUP BY reason)
ORDER BY n DESC, reason`, sqlfrag.Qualified("quarantine", table)).String())
	if err != nil {
		return nil, fmt.Errorf("list quarantine.%s: %w", table, err)
	}
	defer rows.Close()
	var out []ReasonCount
	for rows.Next() {
		var rc ReasonCount
		if err := rows.Scan(&rc.Reason, &rc.Rows, &rc.First, &rc.Last, &rc.Sample); err != nil {
			return nil, fmt.Errorf("list quarantine.%s: %w", table, err)
		}
		out = append(out, rc)
	}
	return out, rows.Err()
}

// ReplayOptions choose the quarantined rows to replay.
type ReplayOptions struct {
	// Reason, when set, replays only rows whose reason contains it.
	Reason string
}

// Replay runs quarantined rows of table through the current contract: those that pass
// now are merged into Silver (deduplicated like any batch) and then removed from the
// quarantine; those that still fail stay. Silver's commit carries txn {appId:
// ReplayAppID, version: the quarantine version read}. A replay killed between its two
// commits merges again on the next attempt, where the dedupe finds the rows stored and
// writes nothing, and then finishes the removal.
func (j *Job) Replay(ctx context.Context, table string, opts ReplayOptions) (Summary, error) {
	c, err := j.contract(table)
	if err != nil {
		return Summary{}, err
	}
	start := j.cfg.Now()
	sum, err := j.untilNoConflict(func() (Summary, error) { return j.replayOnce(ctx, c, opts) },
		"replay lost a commit race; re-reading", "table", table)
	sum.Duration = Seconds(j.cfg.Now().Sub(start))
	if err != nil {
		return sum, fmt.Errorf("replay quarantine.%s: %w", table, err)
	}
	j.log.Info("replay done", "table", table, "rows_in", sum.RowsIn, "valid", sum.Valid, "written", sum.Written,
		"duplicates", sum.Duplicates, "version", sum.Version, "duration", time.Duration(sum.Duration))
	return sum, nil
}

func (j *Job) replayOnce(ctx context.Context, c *Contract, opts ReplayOptions) (Summary, error) {
	qt := lake.NewTable(j.cfg.Store, QuarantineRoot(c.Table.Name), lake.WithLogger(j.log))
	qsnap, err := latestOwned(ctx, qt)
	if err != nil || qsnap == nil {
		return Summary{Table: c.Table.Name, Version: -1}, err
	}
	r := &run{j: j, c: c, commitID: uuid.NewString(), appID: ReplayAppID(c.Table.Name),
		txnVersion: qsnap.Version, job: "silver replay", sealed: true,
		inputs: map[string]int64{QuarantineRoot(c.Table.Name): qsnap.Version}}
	r.sum = Summary{Table: c.Table.Name, Version: -1}
	r.silver = lake.NewTable(j.cfg.Store, Root(c.Table.Name), lake.WithLogger(j.log))
	if r.ssnap, err = latestOrNil(ctx, r.silver); err != nil {
		return r.sum, err
	}
	if r.sess, err = engine.Open(ctx, j.cfg.Engine); err != nil {
		return r.sum, err
	}
	defer r.sess.Close()
	if err := r.sess.RegisterTable(ctx, "quarantine", c.Table.Name, qsnap, engine.TableFiles(qt, j.cfg.Cache)); err != nil {
		return r.sum, err
	}
	src := sqlfrag.Fmt(`(SELECT payload, topic, "partition", "offset", ingested_at, ingest_date, ingest_hour FROM %s WHERE contains(reason, %s))`,
		sqlfrag.Qualified("quarantine", c.Table.Name), sqlfrag.Str(opts.Reason))
	if err := r.materialize(ctx, src); err != nil {
		return r.sum, err
	}
	if r.sum.Valid == 0 {
		return r.sum, nil
	}
	// Always merge, even when Silver's txn says this quarantine version was merged
	// before: an earlier replay may have died before its release with another reason
	// filter or another contract, so rows valid now may not be in Silver. Rows that are
	// stored already tie with themselves and lose, and a merge that writes nothing
	// makes no commit.
	r.skipEmpty = true
	if err := r.merge(ctx); err != nil {
		return r.sum, err
	}
	j.cfg.Hook(HookCommitted)
	return r.sum, r.release(ctx, qt, qsnap, src)
}

// release removes the rows that passed from the quarantine, rewriting the ingest-hour
// partitions that held them, in one commit.
func (r *run) release(ctx context.Context, qt *lake.Table, qsnap *lake.Snapshot, src sqlfrag.SQL) error {
	type hour struct {
		date string
		hour int
	}
	rows, err := r.sess.QueryContext(ctx, sqlfrag.Fmt(
		`SELECT DISTINCT strftime(q.ingest_date, '%%Y-%%m-%%d'), q.ingest_hour FROM %s q JOIN %s b ON %s WHERE b.%s IS NULL`,
		src, rel(relBatch), batchPosition(aliasQuarantine, aliasBatch), sqlfrag.Ident(colReason)).String())
	if err != nil {
		return fmt.Errorf("find released rows: %w", err)
	}
	hours := map[hour]bool{}
	for rows.Next() {
		var h hour
		if err := rows.Scan(&h.date, &h.hour); err != nil {
			rows.Close()
			return fmt.Errorf("find released rows: %w", err)
		}
		hours[h] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find released rows: %w", err)
	}
	inHours := func(pv map[string]*string) bool {
		d, h := pv[layout.ColIngestDate], pv[layout.ColIngestHour]
		if d == nil || h == nil {
			return false
		}
		n, err := strconv.Atoi(*h)
		return err == nil && hours[hour{*d, n}]
	}
	var old []lake.Add
	for _, a := range qsnap.Files() {
		if inHours(a.PartitionValues) {
			old = append(old, a)
		}
	}
	if err := r.sess.RegisterFiles(ctx, "main", relQuarantineReleased, qsnap, old, engine.TableFiles(qt, r.j.cfg.Cache)); err != nil {
		return err
	}
	keep := sqlfrag.Fmt(`SELECT * FROM %s q WHERE NOT EXISTS (SELECT 1 FROM %s b WHERE b.%s IS NULL AND %s)`,
		rel(relQuarantineReleased), rel(relBatch), sqlfrag.Ident(colReason), batchPosition(aliasQuarantine, aliasBatch))
	adds, err := r.sess.WriteFiles(ctx, qt, quarantinePartitions, keep.String())
	if err != nil {
		return err
	}
	tx := qt.Begin(qsnap)
	now := r.j.cfg.Now()
	for _, a := range old {
		tx.Remove(a.RemoveAt(now))
	}
	tx.Add(adds...)
	tx.ReadPartitions(inHours)
	tx.SetTxn(r.appID, qsnap.Version)
	tx.Operation("DELETE", map[string]any{"predicate": "replayed into silver." + r.c.Table.Name})
	tx.Info("job", r.job)
	tx.Info("table", r.c.Table.Name)
	if _, err := tx.Commit(ctx); err != nil {
		return err
	}
	return nil
}
