package lake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Tx is one commit being prepared: the actions to write and what the writer read. A Tx
// is used by one goroutine and committed once.
//
//	tx := t.Begin(snap) // nil for a new table, with tx.SetMetadata
//	tx.Add(adds...)
//	tx.SetTxn("kafka/events/0", nextOffset)
//	tx.Operation("STREAMING UPDATE", map[string]any{"outputMode": "Append"})
//	v, err := tx.Commit(ctx)
type Tx struct {
	t         *Table
	read      *Snapshot
	metadata  *Metadata
	adds      []Add
	removes   []Remove
	txns      map[string]int64
	op        string
	params    map[string]any
	info      map[string]any
	readPreds []func(partitionValues map[string]*string) bool
	committed bool
	// id is commitInfo.txnId, fixed for the Tx so that Commit recognises its own
	// commit after a write whose outcome was unknown (a lost reply, a failed cleanup).
	id string
	// after is the commit time of the newest version this Tx has seen (the one it
	// read, or one it lost against): its own time must be later, whatever the
	// clocks of the writers say, so that commit times grow with the version as time
	// travel by timestamp needs.
	after time.Time
}

// Begin starts a commit on top of read, the snapshot the writer based its work on
// (nil to create the table).
func (t *Table) Begin(read *Snapshot) *Tx {
	tx := &Tx{t: t, read: read, txns: map[string]int64{}, info: map[string]any{}, id: uuid.NewString()}
	if read != nil {
		tx.after = read.Timestamp
	}
	return tx
}

// SetMetadata replaces the table's metadata (schema, partitioning, configuration). A
// new table must have it. An empty ID keeps the table's ID (or makes one).
func (tx *Tx) SetMetadata(md Metadata) { tx.metadata = &md }

// Add adds data files.
func (tx *Tx) Add(adds ...Add) { tx.adds = append(tx.adds, adds...) }

// Remove removes data files (see Add.RemoveAt).
func (tx *Tx) Remove(removes ...Remove) { tx.removes = append(tx.removes, removes...) }

// SetTxn records that application appID has written up to version. A concurrent commit
// that also sets appID makes this one fail with a *ConflictError.
func (tx *Tx) SetTxn(appID string, version int64) { tx.txns[appID] = version }

// Operation names the operation and its parameters for commitInfo (default "WRITE").
func (tx *Tx) Operation(name string, params map[string]any) {
	tx.op, tx.params = name, params
}

// Info adds a key to commitInfo: lineage facts such as the job and the input versions
// read. Keys that lakectl sets itself (timestamp, operation, ...) are not overridden.
func (tx *Tx) Info(key string, v any) { tx.info[key] = v }

// ReadPartitions declares that the commit depends on the partitions for which pred
// returns true: a concurrent commit that adds or removes data there makes this one
// fail with a *ConflictError (as a partition rewrite must).
func (tx *Tx) ReadPartitions(pred func(partitionValues map[string]*string) bool) {
	tx.readPreds = append(tx.readPreds, pred)
}

// Commit writes the commit as the next version, one PutIfAbsent. When a concurrent
// writer took that version, Commit reads the winning commit and, unless it conflicts
// logically (see ConflictError), tries the version after it. It returns the version
// written.
//
// A write that fails but may have landed is checked by reading the version back:
// finding this Tx's own commit there (by commitInfo.txnId) is success. When even that
// read fails, the error leaves the outcome unknown; calling Commit again on the same
// Tx is then safe (it finds its own commit instead of writing a second one), and
// writers that build a new Tx use SetTxn and check TxnVersion on a fresh snapshot
// before redoing their work.
func (tx *Tx) Commit(ctx context.Context) (int64, error) {
	t := tx.t
	if tx.committed {
		return -1, fmt.Errorf("commit %s: transaction already committed", t)
	}
	version, md, proto, err := tx.prepare()
	if err != nil {
		return -1, err
	}
	for range t.maxAttempts {
		data, err := tx.encode(md, proto)
		if err != nil {
			return -1, fmt.Errorf("commit %s v%d: %w", t, version, err)
		}
		err = t.store.PutIfAbsent(ctx, t.Key(logDir+commitName(version)), data)
		if err != nil && !errors.Is(err, ErrExists) {
			// The outcome is unknown: the write may have landed and its reply got lost.
			if winner, rerr := t.readCommit(ctx, version); rerr != nil || commitTxnID(winner) != tx.id {
				return -1, fmt.Errorf("commit %s v%d: %w", t, version, err)
			}
			err = nil
		}
		if err == nil {
			tx.committed = true
			t.afterCommit(ctx, version, tx.readCheckpoint())
			return version, nil
		}
		winner, err := t.readCommit(ctx, version)
		if err != nil {
			return -1, fmt.Errorf("commit %s: %w", t, err)
		}
		if commitTxnID(winner) == tx.id {
			// Written by an earlier Commit of this Tx whose outcome was unknown.
			tx.committed = true
			t.afterCommit(ctx, version, tx.readCheckpoint())
			return version, nil
		}
		if tx.read == nil {
			return -1, &ConflictError{Version: version, Reason: "created the table concurrently"}
		}
		if err := tx.checkConflict(version, winner); err != nil {
			return -1, err
		}
		if ts := commitTime(winner, ObjectInfo{}); ts.After(tx.after) {
			tx.after = ts
		}
		version++
	}
	// Transient: a later Commit, on a fresh snapshot, may find the log quieter.
	return -1, Transient(fmt.Errorf("commit %s: gave up at v%d after %d attempts against concurrent commits", t, version, t.maxAttempts))
}

// prepare checks the commit and returns its first version to try, its metadata, and
// the protocol to write (nil when unchanged).
func (tx *Tx) prepare() (int64, *Metadata, *Protocol, error) {
	t := tx.t
	version := int64(0)
	var proto *Protocol
	md := tx.metadata
	if tx.read == nil {
		if md == nil {
			return -1, nil, nil, fmt.Errorf("commit %s v0: a new table needs metadata (SetMetadata)", t)
		}
		proto = &Protocol{MinReaderVersion: ReaderVersion, MinWriterVersion: WriterVersion}
	} else {
		version = tx.read.Version + 1
		if err := checkWrite(tx.read.Protocol, &tx.read.Metadata); err != nil {
			return -1, nil, nil, fmt.Errorf("commit %s v%d: %w", t, version, err)
		}
	}
	if md != nil {
		filled := *md
		if filled.ID == "" && tx.read != nil {
			filled.ID = tx.read.Metadata.ID
		}
		if filled.ID == "" {
			filled.ID = uuid.NewString()
		}
		if filled.CreatedTime == nil {
			ms := t.now().UnixMilli()
			filled.CreatedTime = &ms
		}
		if filled.Format.Provider == "" {
			filled.Format.Provider = "parquet"
		}
		filled.Format.Options = nonNilStringMap(filled.Format.Options)
		filled.Configuration = nonNilStringMap(filled.Configuration)
		filled.PartitionColumns = nonNilSlice(filled.PartitionColumns)
		if err := validateMetadata(&filled); err != nil {
			return -1, nil, nil, fmt.Errorf("commit %s v%d: %w", t, version, err)
		}
		pv := Protocol{MinReaderVersion: ReaderVersion, MinWriterVersion: WriterVersion}
		if tx.read != nil {
			pv = tx.read.Protocol
		}
		if err := checkWrite(pv, &filled); err != nil {
			return -1, nil, nil, fmt.Errorf("commit %s v%d: %w", t, version, err)
		}
		md = &filled
	}
	cur := md
	if cur == nil {
		cur = &tx.read.Metadata
	}
	if err := tx.validateFiles(cur); err != nil {
		return -1, nil, nil, fmt.Errorf("commit %s v%d: %w", t, version, err)
	}
	return version, md, proto, nil
}

// validateMetadata checks that the schema parses and holds the partition columns,
// and that the txn retention properties parse.
func validateMetadata(md *Metadata) error {
	s, err := ParseSchema(md.SchemaString)
	if err != nil {
		return err
	}
	if _, err := ParseTxnRetention(md.Configuration); err != nil {
		return err
	}
	for _, c := range md.PartitionColumns {
		if _, ok := s.Field(c); !ok {
			return fmt.Errorf("partition column %q is not in the schema", c)
		}
	}
	return nil
}

// validateFiles checks that every add names its file and carries exactly the table's
// partition values, and that an append-only table loses no data.
func (tx *Tx) validateFiles(md *Metadata) error {
	for _, a := range tx.adds {
		if a.Path == "" {
			return fmt.Errorf("add with an empty path")
		}
		if len(a.PartitionValues) != len(md.PartitionColumns) {
			return fmt.Errorf("add %s: partition values %v, want the columns %v", a.Path, slices.Sorted(maps.Keys(a.PartitionValues)), md.PartitionColumns)
		}
		for _, c := range md.PartitionColumns {
			if _, ok := a.PartitionValues[c]; !ok {
				return fmt.Errorf("add %s: no value for partition column %q", a.Path, c)
			}
		}
	}
	for _, r := range tx.removes {
		if r.Path == "" {
			return fmt.Errorf("remove with an empty path")
		}
		if r.DataChange && appendOnly(md) {
			return fmt.Errorf("remove %s: the table is append-only (delta.appendOnly)", r.Path)
		}
	}
	return nil
}

// encode writes the commit file: commitInfo first, then protocol and metadata, txns,
// removes and adds, one JSON action per line.
func (tx *Tx) encode(md *Metadata, proto *Protocol) ([]byte, error) {
	ms := max(tx.t.now().UnixMilli(), tx.after.UnixMilli()+1)
	info := CommitInfo{}
	maps.Copy(info, tx.info)
	op := tx.op
	if op == "" {
		op = "WRITE"
	}
	params := tx.params
	if params == nil {
		params = map[string]any{}
	}
	info["timestamp"] = ms
	info["operation"] = op
	info["operationParameters"] = params
	info["isBlindAppend"] = len(tx.removes) == 0 && len(tx.readPreds) == 0 && md == nil
	info["txnId"] = tx.id
	info["engineInfo"] = "lakectl"
	if tx.read != nil {
		info["readVersion"] = tx.read.Version
	}
	actions := []Action{{CommitInfo: &info}}
	if proto != nil {
		actions = append(actions, Action{Protocol: proto})
	}
	if md != nil {
		actions = append(actions, Action{Metadata: md})
	}
	for _, id := range slices.Sorted(maps.Keys(tx.txns)) {
		actions = append(actions, Action{Txn: &Txn{AppID: id, Version: tx.txns[id], LastUpdated: &ms}})
	}
	for i := range tx.removes {
		r := tx.removes[i]
		if r.DeletionTimestamp == 0 {
			r.DeletionTimestamp = ms
		}
		actions = append(actions, Action{Remove: &r})
	}
	for i := range tx.adds {
		a := tx.adds[i]
		if a.PartitionValues == nil {
			a.PartitionValues = map[string]*string{}
		}
		actions = append(actions, Action{Add: &a})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, a := range actions {
		if err := enc.Encode(a); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// commitTxnID returns the commitInfo.txnId of a commit, "" when it has none.
func commitTxnID(actions []Action) string {
	for _, a := range actions {
		if a.CommitInfo != nil {
			id, _ := (*a.CommitInfo)["txnId"].(string)
			return id
		}
	}
	return ""
}

// readCheckpoint is the checkpoint version the transaction's snapshot was loaded
// from, -1 for none.
func (tx *Tx) readCheckpoint() int64 {
	if tx.read == nil {
		return -1
	}
	return tx.read.checkpoint
}

// afterCommit writes a checkpoint when the version calls for one: every interval-th
// version, and any later version while the checkpoint newest at the read (base) is more
// than an interval behind, so that a checkpoint that failed is written by the next
// commit instead of ten commits later. It is best effort: the commit has landed, and
// a reader works without the checkpoint.
func (t *Table) afterCommit(ctx context.Context, version, base int64) {
	if t.checkpointInterval <= 0 || version == 0 {
		return
	}
	if version%t.checkpointInterval != 0 && version-base <= t.checkpointInterval {
		return
	}
	snap, err := t.At(ctx, version)
	if err == nil {
		err = t.Checkpoint(ctx, snap)
	}
	if err != nil {
		t.logger.Warn("checkpoint failed; the commit stands", "version", version, "err", err)
	}
}
