// Package lake is lakectl's storage layer: the object Store that every backend
// implements (lake/fs, lake/s3, lake/mem) and the Delta Lake log on top of it —
// snapshots, commits with optimistic concurrency, checkpoints, time travel and vacuum.
//
//	t := lake.NewTable(store, "silver/events")
//	snap, err := t.Latest(ctx) // or t.At(ctx, 42), t.AsOf(ctx, when)
//	for _, f := range snap.Files() {
//		key := t.Key(f.DecodedPath())
//		...
//	}
//	tx := t.Begin(snap)
//	tx.Add(newFiles...)
//	tx.SetTxn("silver/events/2026-11-21T08", bronzeVersion)
//	version, err := tx.Commit(ctx)
//
// lakectl reads tables of reader version 1 (and 2 with column mapping off) and writes
// reader 1 / writer 2 (see protocol.go for exactly what is refused). A commit is one
// PutIfAbsent of the next _delta_log/%020d.json; a lost race is resolved by checking
// the winning commits for logical conflicts and retrying at the next version. Every
// 10th version gets a classic Parquet checkpoint and _last_checkpoint, best effort,
// with the protocol's checkpoint schema; checkpoints that keep statistics only in
// add.stats_parsed (other writers') are read too. File statistics are exact
// (StatsTimestamp), and every lakectl writer names a data file's directory from its
// partition values (PartitionDir), so paths and log agree.
//
// A commit file that is empty or has a line that is not one JSON action is a
// *CorruptCommitError (errors.Is ErrCorruptCommit) for every read that needs it, and
// Vacuum deletes nothing while the log holds one. Check verifies the live files of a
// snapshot against the store; Repair removes those the caller picks in one FSCK commit:
//
//	rep, err := t.Check(ctx, snap)
//	res, err := t.Repair(ctx, snap, rep.Missing())
//
// Txn entries ({appId, version}, the idempotency and offset state of writers) are kept
// forever unless the table expires some: delta.setTransactionRetentionDuration expires
// every appId (so lakectl's own tables never set it), and lakectl.txnRetention.prefixes
// with lakectl.txnRetention.duration expire only appIds with those prefixes. Expiry
// counts back from the snapshot's commit time, so snapshots and checkpoints of a
// version agree. See txnretention.go for why ledger and marker entries must not expire.
package lake
