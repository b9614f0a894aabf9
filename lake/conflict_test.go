package lake_test

import (
	"errors"
	"testing"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/deltatest"
	"github.com/lakectl/lakectl/lake/mem"
)

func newMem(testing.TB) lake.Store { return mem.New() }

// createIn creates the test table (deltatest.Metadata) at "t" in a fresh store.
func createIn(t *testing.T, newStore func(testing.TB) lake.Store) *lake.Table {
	t.Helper()
	tbl := lake.NewTable(newStore(t), "t")
	if err := deltatest.Create(t.Context(), tbl); err != nil {
		t.Fatalf("create: %v", err)
	}
	return tbl
}

func TestConflictMatrix(t *testing.T) { conflictMatrix(t, newMem) }

// conflictMatrix runs, on stores from newStore, cases that each prepare two commits on
// the same snapshot; the winner lands first, then the loser tries and either lands at
// the next version or gets a ConflictError.
func conflictMatrix(t *testing.T, newStore func(testing.TB) lake.Store) {
	f1, f2 := deltatest.FileAdd("base", 1, "x"), deltatest.FileAdd("base", 2, "y")
	inX := func(pv map[string]*string) bool { return pv["p"] != nil && *pv["p"] == "x" }
	type prep func(tx *lake.Tx)
	cases := []struct {
		name          string
		winner, loser prep
		wantConflict  bool
	}{
		{"blind appends both land",
			func(tx *lake.Tx) { tx.Add(deltatest.FileAdd("a", 1, "x")) },
			func(tx *lake.Tx) { tx.Add(deltatest.FileAdd("b", 1, "x")) }, false},
		{"double remove conflicts",
			func(tx *lake.Tx) { tx.Remove(f1.RemoveAt(a0())) },
			func(tx *lake.Tx) { tx.Remove(f1.RemoveAt(a0())) }, true},
		{"removes of different files commute",
			func(tx *lake.Tx) { tx.Remove(f1.RemoveAt(a0())) },
			func(tx *lake.Tx) { tx.Remove(f2.RemoveAt(a0())) }, false},
		{"txn advanced conflicts",
			func(tx *lake.Tx) { tx.SetTxn("kafka/t/0", 10); tx.Add(deltatest.FileAdd("a", 1, "x")) },
			func(tx *lake.Tx) { tx.SetTxn("kafka/t/0", 10); tx.Add(deltatest.FileAdd("b", 1, "x")) }, true},
		{"txns of other apps commute",
			func(tx *lake.Tx) { tx.SetTxn("kafka/t/0", 10) },
			func(tx *lake.Tx) { tx.SetTxn("kafka/t/1", 10) }, false},
		{"add into a read partition conflicts",
			func(tx *lake.Tx) { tx.Add(deltatest.FileAdd("a", 1, "x")) },
			func(tx *lake.Tx) {
				tx.ReadPartitions(inX)
				tx.Remove(f1.RemoveAt(a0()))
				tx.Add(deltatest.FileAdd("b", 1, "x"))
			}, true},
		{"add into another partition commutes with a read",
			func(tx *lake.Tx) { tx.Add(deltatest.FileAdd("a", 1, "y")) },
			func(tx *lake.Tx) {
				tx.ReadPartitions(inX)
				tx.Remove(f1.RemoveAt(a0()))
				tx.Add(deltatest.FileAdd("b", 1, "x"))
			}, false},
		{"remove from a read partition conflicts",
			func(tx *lake.Tx) { tx.Remove(lake.Remove{Path: f1.Path, DataChange: true}) },
			func(tx *lake.Tx) { tx.ReadPartitions(inX); tx.Add(deltatest.FileAdd("b", 1, "x")) }, true},
		{"metadata change conflicts with an append",
			func(tx *lake.Tx) {
				md := deltatest.Metadata()
				md.Configuration = map[string]string{"owner": "someone"}
				tx.SetMetadata(md)
			},
			func(tx *lake.Tx) { tx.Add(deltatest.FileAdd("b", 1, "x")) }, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tbl := createIn(t, newStore)
			tx := tbl.Begin(latest(t, tbl))
			tx.Add(f1, f2)
			if _, err := tx.Commit(t.Context()); err != nil {
				t.Fatal(err)
			}
			base := latest(t, tbl)
			winner, loser := tbl.Begin(base), tbl.Begin(base)
			c.winner(winner)
			c.loser(loser)
			if v, err := winner.Commit(t.Context()); err != nil || v != base.Version+1 {
				t.Fatalf("winner: v%d, %v", v, err)
			}
			v, err := loser.Commit(t.Context())
			var conflict *lake.ConflictError
			switch {
			case c.wantConflict && !errors.As(err, &conflict):
				t.Fatalf("loser: v%d, err %v; want a ConflictError", v, err)
			case c.wantConflict && conflict.Version != base.Version+1:
				t.Errorf("conflict names v%d, want v%d", conflict.Version, base.Version+1)
			case !c.wantConflict && (err != nil || v != base.Version+2):
				t.Fatalf("loser: v%d, %v; want it to land at v%d", v, err, base.Version+2)
			}
			if got := latest(t, tbl).Version; got != base.Version+1 && c.wantConflict {
				t.Errorf("after a conflict the table is at v%d, want v%d", got, base.Version+1)
			}
		})
	}
}

func TestIdempotentRetryThroughTxn(t *testing.T) { idempotentRetry(t, newMem) }

// idempotentRetry checks, on a store from newStore, that an idempotent writer records
// its progress with a txn: a retry of the same work after an unknown outcome, or a
// concurrent duplicate, writes nothing twice.
func idempotentRetry(t *testing.T, newStore func(testing.TB) lake.Store) {
	tbl := createIn(t, newStore)
	const app = "silver/events/2026-11-21T08"
	write := func(snap *lake.Snapshot, version int64, writer string) (int64, error) {
		if done, ok := snap.TxnVersion(app); ok && done >= version {
			return -1, nil // already written: nothing to do
		}
		tx := tbl.Begin(snap)
		tx.SetTxn(app, version)
		tx.Add(deltatest.FileAdd(writer, int(version), "x"))
		return tx.Commit(t.Context())
	}
	base := latest(t, tbl)
	if v, err := write(base, 7, "a"); err != nil || v != 1 {
		t.Fatalf("first write: v%d, %v", v, err)
	}
	// A duplicate that read the same old snapshot loses with a conflict...
	_, err := write(base, 7, "b")
	if !errors.As(err, new(*lake.ConflictError)) {
		t.Fatalf("duplicate on a stale snapshot: err = %v, want a ConflictError", err)
	}
	// ...and on re-reading finds the work done.
	if v, err := write(latest(t, tbl), 7, "b"); err != nil || v != -1 {
		t.Fatalf("retry on a fresh snapshot: v%d, %v; want nothing written", v, err)
	}
	s := latest(t, tbl)
	if s.Version != 1 || s.NumFiles() != 1 {
		t.Errorf("table at v%d with %d files, want v1 with 1", s.Version, s.NumFiles())
	}
	if got, _ := s.TxnVersion(app); got != 7 {
		t.Errorf("txn version = %d, want 7", got)
	}
}
