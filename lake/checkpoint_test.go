package lake_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/deltatest"
	"github.com/lakectl/lakectl/lake/mem"
	"github.com/lakectl/lakectl/lake/storetest"
)

// writeHistory makes 25 commits on a new table: appends to two partitions (one with a
// null value and an encoded path), removes, txns, and a metadata change at v13.
func writeHistory(t *testing.T, tbl *lake.Table) {
	t.Helper()
	ctx := t.Context()
	if err := deltatest.Create(ctx, tbl); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 25; i++ {
		snap := latest(t, tbl)
		tx := tbl.Begin(snap)
		p := []string{"x", "a b"}[i%2]
		add := deltatest.FileAdd("w", i, p)
		add.Path = lake.EncodePath(fmt.Sprintf("p=%s/part-%05d.parquet", p, i))
		add.Stats = fmt.Sprintf(`{"numRecords":%d,"minValues":{"id":%d},"maxValues":{"id":%d},"nullCount":{"id":0}}`, i*10, i, i*10)
		add.Tags = map[string]string{"offsets": fmt.Sprintf("%d-%d", i*100, i*100+99)}
		if i%7 == 0 {
			add.PartitionValues = map[string]*string{"p": nil}
			add.Path = fmt.Sprintf("p=__HIVE_DEFAULT_PARTITION__/part-%05d.parquet", i)
		}
		tx.Add(add)
		if i%3 == 0 {
			files := snap.Files()
			tx.Remove(files[0].RemoveAt(time.Now()))
		}
		tx.SetTxn(fmt.Sprintf("app-%d", i%4), int64(i))
		if i == 13 {
			md := snap.Metadata
			md.Configuration = map[string]string{"delta.checkpointInterval": "10", "owner": "test"}
			md.Description = "with a description"
			tx.SetMetadata(md)
		}
		if v, err := tx.Commit(ctx); err != nil || v != int64(i) {
			t.Fatalf("commit %d: v%d, %v", i, v, err)
		}
	}
}

// wantLastCheckpoint checks that table t's _last_checkpoint names version and a size.
func wantLastCheckpoint(t *testing.T, store lake.Store, version int64) {
	t.Helper()
	hint, err := lake.ReadAll(t.Context(), store, "t/_delta_log/_last_checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	var lc struct{ Version, Size int64 }
	if err := json.Unmarshal(hint, &lc); err != nil || lc.Version != version || lc.Size <= 0 {
		t.Errorf("_last_checkpoint = %s, want version %d and a size", hint, version)
	}
}

// replayJSON is deltatest's independent replay of the JSON commits 0..upTo, to compare
// with the lake package's snapshots.
func replayJSON(t *testing.T, store lake.Store, root string, upTo int64) *deltatest.Replay {
	t.Helper()
	r, err := deltatest.ReplayJSON(t.Context(), store, root, upTo)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// compareToReplay checks a snapshot against the independent replay.
func compareToReplay(t *testing.T, s *lake.Snapshot, r *deltatest.Replay) {
	t.Helper()
	if got, want := deltatest.SnapshotDigest(s), r.Digest(); got != want {
		t.Errorf("snapshot v%d differs from the replay:\n got:\n%s\nwant:\n%s", s.Version, got, want)
	}
}

// checkHistoryCheckpoints checks a table that writeHistory wrote: its checkpoints at
// v10 and v20, _last_checkpoint, and that the latest snapshot (checkpoint v20 and five
// commits) and those at v10, v13 and v20 equal the independent replay of the JSON
// commits. It returns the replay of all 25, which outlives the JSON commits.
func checkHistoryCheckpoints(t *testing.T, store lake.Store, tbl *lake.Table) *deltatest.Replay {
	t.Helper()
	ctx := t.Context()
	for _, v := range []int64{10, 20} {
		if _, err := store.Stat(ctx, fmt.Sprintf("t/_delta_log/%020d.checkpoint.parquet", v)); err != nil {
			t.Errorf("checkpoint v%d: %v", v, err)
		}
	}
	wantLastCheckpoint(t, store, 20)
	full := replayJSON(t, store, "t", 25)
	compareToReplay(t, latest(t, tbl), full)
	for _, v := range []int64{10, 13, 20} {
		s, err := tbl.At(ctx, v)
		if err != nil {
			t.Fatalf("at v%d: %v", v, err)
		}
		compareToReplay(t, s, replayJSON(t, store, "t", v))
	}
	return full
}

func TestCheckpointEveryTen(t *testing.T) {
	store := mem.New()
	tbl := lake.NewTable(store, "t")
	writeHistory(t, tbl)
	ctx := t.Context()
	full := checkHistoryCheckpoints(t, store, tbl)
	objs, _ := store.List(ctx, "t/_delta_log/", "")
	n := 0
	for _, o := range objs {
		if strings.Contains(o.Key, "checkpoint.parquet") {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d checkpoints, want 2 (v10, v20)", n)
	}

	// The checkpoint alone, and a replay without any checkpoint, also equal the
	// independent JSON replay.
	onlyCheckpoints := mem.New()
	storetest.Copy(t, onlyCheckpoints, store)
	for v := int64(0); v < 20; v++ {
		onlyCheckpoints.Delete(ctx, fmt.Sprintf("t/_delta_log/%020d.json", v))
	}
	s, err := lake.NewTable(onlyCheckpoints, "t").Latest(ctx)
	if err != nil {
		t.Fatalf("latest from checkpoint v20 alone: %v", err)
	}
	compareToReplay(t, s, full)
	noCheckpoints := mem.New()
	storetest.Copy(t, noCheckpoints, store)
	for _, v := range []int64{10, 20} {
		noCheckpoints.Delete(ctx, fmt.Sprintf("t/_delta_log/%020d.checkpoint.parquet", v))
	}
	s, err = lake.NewTable(noCheckpoints, "t").Latest(ctx)
	if err != nil {
		t.Fatalf("latest without checkpoints (hint names a missing one): %v", err)
	}
	compareToReplay(t, s, full)
}

// The checkpoint has the protocol's columns, so other engines read it.
func TestCheckpointColumns(t *testing.T) {
	store := mem.New()
	writeHistory(t, lake.NewTable(store, "t"))
	data, err := lake.ReadAll(t.Context(), store, "t/_delta_log/00000000000000000020.checkpoint.parquet")
	if err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range [][]string{
		{"txn", "appId"}, {"txn", "version"},
		{"add", "path"}, {"add", "partitionValues", "key_value", "key"}, {"add", "partitionValues", "key_value", "value"},
		{"add", "size"}, {"add", "modificationTime"}, {"add", "dataChange"}, {"add", "stats"},
		{"remove", "path"}, {"remove", "deletionTimestamp"}, {"remove", "dataChange"},
		{"metaData", "id"}, {"metaData", "schemaString"}, {"metaData", "partitionColumns", "list", "element"},
		{"metaData", "format", "provider"}, {"metaData", "configuration", "key_value", "key"},
		{"protocol", "minReaderVersion"}, {"protocol", "minWriterVersion"},
	} {
		if _, ok := f.Schema().Lookup(path...); !ok {
			t.Errorf("checkpoint has no column %s", strings.Join(path, "."))
		}
	}
}

// A commit whose checkpoint cannot be written still succeeds.
func TestCheckpointFailureKeepsCommit(t *testing.T) {
	store := &failingPut{Store: mem.New(), fail: ".checkpoint.parquet"}
	tbl := lake.NewTable(store, "t")
	if err := deltatest.Create(t.Context(), tbl); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 10; i++ {
		if _, err := deltatest.Append(t.Context(), tbl, "w", i); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	if s := latest(t, tbl); s.Version != 10 || s.NumFiles() != 10 {
		t.Errorf("table at v%d with %d files, want v10 with 10", s.Version, s.NumFiles())
	}
}

// TestUnreadableLastCheckpointFailsLoad: _last_checkpoint is optional, but a store that
// answers its read with an error other than not-found (a missing bucket, rejected
// credentials) fails the load with that error, rather than logging it and failing
// the same way on the listing after it.
func TestUnreadableLastCheckpointFailsLoad(t *testing.T) {
	denied := errors.New("access denied")
	store := &failingGet{Store: mem.New(), fail: "_last_checkpoint", err: denied}
	tbl := lake.NewTable(store, "t")
	if err := deltatest.Create(t.Context(), tbl); err != nil {
		t.Fatal(err)
	}
	if _, err := tbl.Latest(t.Context()); !errors.Is(err, denied) {
		t.Errorf("Latest with _last_checkpoint unreadable: %v, want the store's error", err)
	}
	store.err = fs.ErrNotExist // absent: fine
	if _, err := tbl.Latest(t.Context()); err != nil {
		t.Errorf("Latest without _last_checkpoint: %v", err)
	}
}
