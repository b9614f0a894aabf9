// Package bronzefixture writes Bronze tables for tests of the layers above it (gold,
// views, serve, the commands), as ingest would have committed them, without running
// ingest.
//
//	bronzefixture.Commit(t, sess, store, "events", 0, payloads, ingestedAt, sealedAt)
//	bronzefixture.CommitRecords(t, sess, store, "events", records, sealedAt)
package bronzefixture

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/lakectl/lakectl/bronze"
	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/lake"
)

// recs is the temporary table the records pass through on their way to the files.
const recs = "bronzefixture_recs"

// Record is one Kafka record as ingest stores it.
type Record struct {
	Payload   []byte
	Partition int32
	Offset    int64
	Ingested  time.Time
}

// Commit writes payloads to bronze/<stream> in one commit, as Kafka partition 0 of
// topic <stream> with offsets first+1, first+2, ..., all received at ingested, and
// moves that partition's sealing mark to sealed (with no payloads, the commit moves the
// mark alone). It creates the table with Bronze's metadata when it does not exist.
func Commit(tb testing.TB, sess *engine.Session, store lake.Store, stream string, first int64, payloads [][]byte, ingested, sealed time.Time) {
	tb.Helper()
	records := make([]Record, len(payloads))
	for i, p := range payloads {
		records[i] = Record{Payload: p, Offset: first + int64(i) + 1, Ingested: ingested}
	}
	commit(tb, sess, store, stream, records, []int32{0}, sealed)
}

// CommitRecords writes records to bronze/<stream> in one commit, each in the ingest
// hour of its Ingested, and moves the sealing mark of every partition they name to
// sealed. It creates the table with Bronze's metadata when it does not exist.
func CommitRecords(tb testing.TB, sess *engine.Session, store lake.Store, stream string, records []Record, sealed time.Time) {
	tb.Helper()
	var parts []int32
	for _, r := range records {
		if !slices.Contains(parts, r.Partition) {
			parts = append(parts, r.Partition)
		}
	}
	commit(tb, sess, store, stream, records, parts, sealed)
}

func commit(tb testing.TB, sess *engine.Session, store lake.Store, stream string, records []Record, parts []int32, sealed time.Time) {
	tb.Helper()
	ctx := tb.Context()
	if _, err := sess.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE `+recs+` (payload BLOB, "partition" INTEGER, "offset" BIGINT, ingested_at TIMESTAMPTZ)`); err != nil {
		tb.Fatal(err)
	}
	for _, r := range records {
		if _, err := sess.ExecContext(ctx, "INSERT INTO "+recs+" VALUES (?, ?, ?, ?)", r.Payload, r.Partition, r.Offset, r.Ingested); err != nil {
			tb.Fatal(err)
		}
	}
	bt := lake.NewTable(store, layout.TableRoot(stream))
	snap, err := bt.Latest(ctx)
	if errors.Is(err, lake.ErrNoTable) {
		snap, err = nil, nil
	}
	if err != nil {
		tb.Fatal(err)
	}
	var adds []lake.Add
	if len(records) > 0 {
		adds, err = sess.WriteFiles(ctx, bt, layout.PartitionColumns, `SELECT payload, NULL::BLOB AS key,
  []::STRUCT(key VARCHAR, value BLOB)[] AS headers, 'kafka' AS source, ?::VARCHAR AS topic, "partition", "offset",
  NULL::TIMESTAMPTZ AS source_timestamp, ingested_at,
  CAST(ingested_at AS DATE) AS ingest_date, CAST(hour(ingested_at) AS INTEGER) AS ingest_hour FROM `+recs, stream)
		if err != nil {
			tb.Fatal(err)
		}
	}
	tx := bt.Begin(snap)
	if snap == nil {
		tx.SetMetadata(bronze.NewMetadata("", stream, time.Now()))
	}
	tx.Add(adds...)
	for _, p := range parts {
		tx.SetTxn(layout.KafkaWatermarkAppID(stream, p), sealed.UnixMilli())
	}
	if _, err := tx.Commit(ctx); err != nil {
		tb.Fatal(err)
	}
}
