package silver

import (
	"context"
	"fmt"
	"strconv"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/lake"
)

// Quarantine columns. A quarantined row keeps what is needed to find it in Bronze and
// to replay it: the raw payload and its source position.
const (
	QColReason        = "reason"
	QColPayload       = "payload"
	QColTopic         = "topic"
	QColPartition     = "partition"
	QColOffset        = "offset"
	QColIngestedAt    = "ingested_at"
	QColQuarantinedAt = "quarantined_at"
	QColBronzeVersion = "bronze_version"
)

// quarantinePartitions are the quarantine table's partition columns: the ingest hour,
// like Bronze, so a run touches one partition and a re-run finds its rows there.
var quarantinePartitions = []string{layout.ColIngestDate, layout.ColIngestHour}

// sourcePosition matches two quarantine rows of the same Bronze record.
func sourcePosition(a, b sqlfrag.SQL) sqlfrag.SQL {
	return sqlfrag.Fmt("%[1]s.%[3]s IS NOT DISTINCT FROM %[2]s.%[3]s AND %[1]s.%[4]s = %[2]s.%[4]s AND %[1]s.%[5]s = %[2]s.%[5]s",
		a, b, sqlfrag.Ident(QColTopic), sqlfrag.Ident(QColPartition), sqlfrag.Ident(QColOffset))
}

// batchPosition matches a quarantine row q with the batch row b read from it.
func batchPosition(q, b sqlfrag.SQL) sqlfrag.SQL {
	return sqlfrag.Fmt("%[1]s.%[3]s IS NOT DISTINCT FROM %[2]s.%[4]s AND %[1]s.%[5]s = %[2]s.%[6]s AND %[1]s.%[7]s = %[2]s.%[8]s",
		q, b, sqlfrag.Ident(QColTopic), sqlfrag.Ident(ColTopic), sqlfrag.Ident(QColPartition), sqlfrag.Ident(ColPartition),
		sqlfrag.Ident(QColOffset), sqlfrag.Ident(ColOffset))
}

// quarantine writes the batch's rejected rows to quarantine/T, once: a commit that
// already carries this run's txn means an earlier attempt wrote them, and rows already
// stored for the hour (same topic, partition and offset) are not written again.
func (r *run) quarantine(ctx context.Context) error {
	var rejected int64
	count := sqlfrag.Fmt("SELECT count(*) FROM %s WHERE %s IS NOT NULL", rel(relBatch), sqlfrag.Ident(colReason))
	if err := r.sess.QueryRowContext(ctx, count.String()).Scan(&rejected); err != nil {
		return fmt.Errorf("count rejected rows: %w", err)
	}
	if rejected == 0 {
		return nil
	}
	qt := lake.NewTable(r.j.cfg.Store, QuarantineRoot(r.c.Table.Name), lake.WithLogger(r.j.log))
	qsnap, err := latestOwned(ctx, qt)
	if err != nil {
		return err
	}
	if qsnap != nil {
		if v, ok := qsnap.TxnVersion(r.appID); ok && v >= r.txnVersion {
			return nil
		}
	}
	date, hour := r.hour.Time().Format("2006-01-02"), r.hour.Time().Hour()
	id := sqlfrag.Ident
	query := sqlfrag.Fmt(`SELECT %s AS %s, %s AS %s, %s AS %s, %s AS %s, %s AS %s, %s AS %s,
  CAST(%s AS DATE) AS %s, CAST(%s AS INTEGER) AS %s, CAST(%s AS TIMESTAMPTZ) AS %s, CAST(%s AS BIGINT) AS %s
FROM %s b WHERE b.%s IS NOT NULL`,
		id(colReason), id(QColReason), id(colPayload), id(QColPayload), id(ColTopic), id(QColTopic),
		id(ColPartition), id(QColPartition), id(ColOffset), id(QColOffset), id(ColIngestedAt), id(QColIngestedAt),
		sqlfrag.Str(date), id(layout.ColIngestDate), sqlfrag.Int(int64(hour)), id(layout.ColIngestHour),
		sqlfrag.Str(r.j.cfg.Now().UTC().Format("2006-01-02 15:04:05.999999+00")), id(QColQuarantinedAt),
		sqlfrag.Int(r.bsnap.Version), id(QColBronzeVersion),
		rel(relBatch), id(colReason))
	var stored []lake.Add
	if qsnap != nil {
		for _, a := range qsnap.Files() {
			d, h := a.PartitionValues[layout.ColIngestDate], a.PartitionValues[layout.ColIngestHour]
			if d != nil && h != nil && *d == date && *h == strconv.Itoa(hour) {
				stored = append(stored, a)
			}
		}
	}
	if len(stored) > 0 {
		if err := r.sess.RegisterFiles(ctx, "main", relQuarantineStored, qsnap, stored, engine.TableFiles(qt, r.j.cfg.Cache)); err != nil {
			return err
		}
		query = sqlfrag.Fmt("SELECT * FROM (%s) n WHERE NOT EXISTS (SELECT 1 FROM %s q WHERE %s)",
			query, rel(relQuarantineStored), sourcePosition(aliasQuarantine, aliasNew))
	}
	if err := r.sess.QueryRowContext(ctx, sqlfrag.Fmt("SELECT count(*) FROM (%s)", query).String()).Scan(&r.sum.Quarantined); err != nil {
		return fmt.Errorf("count rows to quarantine: %w", err)
	}
	adds, err := r.sess.WriteFiles(ctx, qt, quarantinePartitions, query.String())
	if err != nil {
		return err
	}
	tx := qt.Begin(qsnap)
	if qsnap == nil {
		md, err := r.quarantineMetadata(ctx, query)
		if err != nil {
			return err
		}
		tx.SetMetadata(md)
	}
	tx.Add(adds...)
	tx.SetTxn(r.appID, r.txnVersion)
	tx.ReadPartitions(func(pv map[string]*string) bool {
		d, h := pv[layout.ColIngestDate], pv[layout.ColIngestHour]
		return d != nil && h != nil && *d == date && *h == strconv.Itoa(hour)
	})
	tx.Operation("WRITE", map[string]any{"mode": "Append"})
	tx.Info("job", r.job)
	tx.Info("table", r.c.Table.Name)
	tx.Info("ingestHour", r.hour.String())
	tx.Info("inputs", r.inputs)
	if _, err := tx.Commit(ctx); err != nil {
		return err
	}
	return nil
}

func (r *run) quarantineMetadata(ctx context.Context, query sqlfrag.SQL) (lake.Metadata, error) {
	schema, err := r.sess.QuerySchema(ctx, query.String())
	if err != nil {
		return lake.Metadata{}, fmt.Errorf("schema of quarantine.%s: %w", r.c.Table.Name, err)
	}
	s, err := schema.JSON()
	if err != nil {
		return lake.Metadata{}, err
	}
	created := r.j.cfg.Now().UnixMilli()
	return lake.Metadata{
		Name:             r.c.Table.Name,
		Description:      "Quarantine: Bronze rows of stream " + r.c.Table.Source + " that failed the contract of silver." + r.c.Table.Name,
		Format:           lake.Format{Provider: "parquet", Options: map[string]string{}},
		SchemaString:     s,
		PartitionColumns: quarantinePartitions,
		Configuration:    map[string]string{},
		CreatedTime:      &created,
	}, nil
}
