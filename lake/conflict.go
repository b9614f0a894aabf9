package lake

import "fmt"

// checkConflict decides whether this commit may go on top of winner, a commit that a
// concurrent writer made at version v after the snapshot this one read. It returns a
// *ConflictError when the winner changed something this commit depends on:
//
//   - the protocol or the metadata (schema, partitioning) changed;
//   - the winner removed a file that this commit removes too;
//   - the winner set a txn appId that this commit sets (an idempotent writer must
//     re-read its ledger);
//   - the winner added or removed data (dataChange) in a partition this commit read
//     (ReadPartitions).
//
// Anything else commutes: in particular blind appends never conflict with each other.
func (tx *Tx) checkConflict(v int64, winner []Action) error {
	removes := make(map[string]bool, len(tx.removes))
	for _, r := range tx.removes {
		removes[r.DecodedPath()] = true
	}
	conflict := func(format string, args ...any) error {
		return &ConflictError{Version: v, Reason: fmt.Sprintf(format, args...)}
	}
	for _, a := range winner {
		switch {
		case a.Protocol != nil:
			return conflict("changed the protocol")
		case a.Metadata != nil:
			return conflict("changed the table metadata")
		case a.Txn != nil:
			if _, ok := tx.txns[a.Txn.AppID]; ok {
				return conflict("advanced txn %s to version %d", a.Txn.AppID, a.Txn.Version)
			}
		case a.Remove != nil:
			p := a.Remove.DecodedPath()
			if removes[p] {
				return conflict("removed file %s that this commit also removes", p)
			}
			if a.Remove.DataChange && tx.readsPartition(tx.removedPartition(a.Remove)) {
				return conflict("removed file %s from a partition this commit read", p)
			}
		case a.Add != nil:
			if a.Add.DataChange && tx.readsPartition(a.Add.PartitionValues) {
				return conflict("added file %s to a partition this commit read", a.Add.DecodedPath())
			}
		}
	}
	return nil
}

// readsPartition reports whether a partition is among those the commit read.
func (tx *Tx) readsPartition(pv map[string]*string) bool {
	for _, pred := range tx.readPreds {
		if pred(pv) {
			return true
		}
	}
	return false
}

// removedPartition returns the partition values of a removed file: from the remove when
// it carries them, else from the file as this commit's snapshot knew it.
func (tx *Tx) removedPartition(r *Remove) map[string]*string {
	if r.PartitionValues != nil || tx.read == nil {
		return r.PartitionValues
	}
	if a, ok := tx.read.File(r.DecodedPath()); ok {
		return a.PartitionValues
	}
	return nil
}
