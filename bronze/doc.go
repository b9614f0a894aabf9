// Package bronze is the ingest service: it appends raw events from Kafka and HTTP to
// Bronze Delta tables (bronze/<stream>), exactly as received and exactly once, and
// advances the sealing marks by which an ingest hour is sealed. What readers need
// to know of a Bronze table (its root, partitions, hours and the sealing rule) is in
// package bronze/layout, which Silver imports instead of this package.
//
//	svc, err := bronze.New(bronze.Config{
//		Store:    store, // a lake.Store from lake/stores
//		Brokers:  []string{"127.0.0.1:9092"},
//		Topics:   map[string]string{"events": "events"}, // topic -> stream
//		HTTPAddr: ":8080",
//		Logger:   logger, Registerer: reg,
//	})
//	err = svc.Run(ctx) // until ctx ends; then flush, commit, leave the group
//
//	sealed := layout.IsSealed(snap, layout.HourOf(t), layout.DefaultGrace)
//
// # Exactly once
//
// Every Delta commit carries, per Kafka partition, txn {appId "kafka/<topic>/<p>",
// version: next offset}: the offset ledger. A member seeks to the ledger (never to
// the group's offsets) whenever it is assigned a partition, and commits a flush only
// if the ledger still holds the offset its files start from; the Delta log refuses a
// concurrent commit that sets the same appId. So a crash between upload and commit
// re-reads the records (the uploaded file is an orphan for vacuum), a crash after the
// commit resumes after them, and a zombie member after a rebalance writes nothing.
// Group offsets are committed to Kafka after the lake commit, for lag tools only.
//
// Each member keeps one Parquet file per (partition, ingest hour) and flushes all of
// them in one commit per stream: by size (FlushSize of uncompressed record bytes), by
// age (FlushInterval), at every hour boundary, before a rebalance and at shutdown.
// Files are encoded by parquet-go (zstd, row groups cut at RowGroupBytes or
// MaxRowsPerRowGroup) into a local spool file and then uploaded.
//
// HTTP events (POST /v1/streams/{stream}/events, NDJSON) are group-committed and
// acknowledged after the commit that holds them. Their rows have partition -1 and a
// gapless sequence number in the offset column, ledgered as "http/<stream>".
//
// A 200 means the events are committed. A 503, or no answer, leaves the outcome
// open only as far as the server could not learn it (the client left, or shutdown
// ended the wait); retrying such a request without a key may store it twice. A
// producer that sends one batch at a time makes its retries exact with the headers
// X-Lakectl-Producer (a stable id) and X-Lakectl-Seq (growing with every new
// batch, unchanged on a retry): the commit records txn {appId
// "http-producer/<stream>/<producer>", version: seq}, and a batch whose seq is not
// above the recorded one is answered 200 with "duplicate": true and not written
// (HeaderProducer, HeaderSeq, IngestResponse.Duplicate). `lakectl gen` does this.
//
// Producer entries expire: a Bronze table is created with the table properties
// lakectl.txnRetention.prefixes "http-producer/" and lakectl.txnRetention.duration
// "interval 7 days" (ProducerRetention), so the entries of producer ids unused for a
// week (`lakectl gen` makes a new id per run) drop out of snapshots and checkpoints.
// A retry more than a week after its batch was committed is written again. Nothing
// else in the ledger expires: an idle or unowned partition and a stopped service
// re-write nothing, so a time-based expiry of the offset ledger, first offsets or
// watermarks would re-ingest records or unseal hours. For the same reason a writer
// refuses a table that sets delta.setTransactionRetentionDuration, or a prefix rule
// that reaches beyond "http-producer/". Tables created before this rule keep their
// producer entries until their metadata gains the two properties.
//
// # Failure, shutdown and restarts
//
// Errors that a retry may cure (the store's lake.Transient: network errors, 5xx,
// throttling, timeouts; and commits lost to concurrent ones) are retried with
// backoff for as long as they last. Any other error (a log that does not parse, an
// unsupported Delta feature, permission denied, a member fenced by another with its
// InstanceID) stops the service: Run returns it, and pending HTTP requests get 503.
// The shutdown that follows the end of Run's context, or such an error, commits what
// it can within Config.ShutdownTimeout and drops the rest, never half a commit.
//
// With Config.InstanceID the member is static (KIP-345): after a crash, a process
// with the same ID takes its partitions back at once; a clean stop leaves the group.
// ClaimInstanceID makes a default ID per host, pipeline and replica slot.
//
// # Sealing
//
// Commits also advance "watermark/kafka/<topic>/<p>" (and "watermark/http/<stream>")
// to the time of the flush in Unix milliseconds: every row of that source ingested
// before the mark is committed. Rows are stamped (ingested_at) no earlier than just
// after their partition's mark as the writer last read it, so a new owner whose
// clock is behind the previous owner's still commits. Idle partitions are advanced by txn-only commits at
// each hour boundary and once the grace after it has passed. A commit whose rows were
// ingested before the current mark is refused and its records re-read, so no row ever
// lands in an hour after its mark passed. Hour H is sealed when every mark of the
// table is at least H+1h+grace (layout.IsSealed, layout.SealedThrough).
//
// # Compaction
//
// Sealed hours are compacted (Compactor, `lakectl compact bronze`, and the service
// itself unless Config.Compact.Off): an hour's small files become files of about
// 128 MiB in one commit of removes and adds with dataChange=false, so readers of
// new data (Silver) can ignore it. Compacted files list their offset ranges per
// source in TagOffsets (see FileSpans), which Verify checks like the single-range
// tags of ingest files.
//
// # Schema
//
// payload binary, key binary (null when the record's key is null, empty when it is
// empty), headers array<struct<key string, value binary>> (empty when the record has
// none; a value null or empty as sent), source string (kafka|http), topic string
// (null for HTTP rows), partition int, offset long, source_timestamp timestamp,
// ingested_at timestamp; partitioned by ingest_date (date) and ingest_hour (int),
// paths ingest_date=YYYY-MM-DD/ingest_hour=H (the hour unpadded, as its partition
// value; files written before that are under ingest_hour=HH and read the same, from
// the log's values).
// Timestamps are Parquet INT64 TIMESTAMP(MICROS, UTC); source_timestamp is null
// for Kafka records without a timestamp (-1). Each add's tags hold its
// topic, partition and inclusive offset range (TagFirstOffset, TagLastOffset).
package bronze
