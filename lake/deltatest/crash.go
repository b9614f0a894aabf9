package deltatest

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"testing"

	"github.com/lakectl/lakectl/lake"
)

// crashStore dies at its n-th operation (counting from 0): that operation fails before
// it runs, or, with lostReply, a write runs and then fails; every later operation
// fails too, as in a process that crashed there.
type crashStore struct {
	lake.Store
	n         int64
	lostReply bool
	ops       atomic.Int64
}

var _ lake.Store = (*crashStore)(nil)

func (s *crashStore) gate(op, key string) (bool, error) {
	i := s.ops.Add(1) - 1
	switch {
	case i < s.n:
		return true, nil
	case i == s.n && s.lostReply:
		return true, fmt.Errorf("%s %s: %w: crashed after the write", op, key, ErrInjected)
	}
	return false, fmt.Errorf("%s %s: %w: crashed", op, key, ErrInjected)
}

// write runs a write through the gate: crashed writes after a lost reply still land.
func (s *crashStore) write(op, key string, fn func() error) error {
	run, err := s.gate(op, key)
	if !run {
		return err
	}
	if werr := fn(); werr != nil {
		return werr
	}
	return err
}

func (s *crashStore) read(op, key string) error {
	if _, err := s.gate(op, key); err != nil {
		return err
	}
	return nil
}

func (s *crashStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := s.read("get", key); err != nil {
		return nil, err
	}
	return s.Store.Get(ctx, key)
}

func (s *crashStore) GetRange(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	if err := s.read("get range", key); err != nil {
		return nil, err
	}
	return s.Store.GetRange(ctx, key, off, n)
}

func (s *crashStore) Stat(ctx context.Context, key string) (lake.ObjectInfo, error) {
	if err := s.read("stat", key); err != nil {
		return lake.ObjectInfo{}, err
	}
	return s.Store.Stat(ctx, key)
}

func (s *crashStore) List(ctx context.Context, prefix, startAfter string) ([]lake.ObjectInfo, error) {
	if err := s.read("list", prefix); err != nil {
		return nil, err
	}
	return s.Store.List(ctx, prefix, startAfter)
}

func (s *crashStore) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	return s.write("put", key, func() error { return s.Store.Put(ctx, key, r, size) })
}

func (s *crashStore) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	return s.write("put-if-absent", key, func() error { return s.Store.PutIfAbsent(ctx, key, data) })
}

func (s *crashStore) Delete(ctx context.Context, key string) error {
	return s.write("delete", key, func() error { return s.Store.Delete(ctx, key) })
}

// CrashSweep crashes one idempotent (SetTxn) append at every store operation it makes
// in turn, both before the operation and just after a write, on a table at v9 so that
// the write is the commit that also checkpoints v10. After each crash the table must
// read as it was (v9) or with the write landed once (v10); a retry by a fresh writer,
// which re-reads the txn ledger, must then finish it: v10, the write exactly once, and
// the log, the replay and any checkpoint agreeing. newStore returns a fresh store.
func CrashSweep(t *testing.T, newStore func(t testing.TB) lake.Store) {
	ctx := t.Context()
	const root = "tables/crash"
	w := chaosWrite{tag: "w0/000", kind: keyedAppend, seq: 1}
	pre := make([]chaosWrite, 9) // writer 1's blind appends that bring the table to v9
	for i := range pre {
		pre[i] = chaosWrite{tag: fmt.Sprintf("w1/%03d", i), kind: blindAppend}
	}
	plans := [][]chaosWrite{{w}, pre}
	for _, lost := range []bool{false, true} {
		for n := int64(0); ; n++ {
			store := newStore(t)
			clean := lake.NewTable(store, root)
			if err := Create(ctx, clean); err != nil {
				t.Fatal(err)
			}
			setup := &chaosWriter{tbl: clean, store: store, id: 1}
			for _, pw := range pre {
				if ok, err := setup.blind(ctx, pw); !ok || err != nil {
					t.Fatal(err)
				}
			}
			before, err := clean.Latest(ctx)
			if err != nil {
				t.Fatal(err)
			}
			cs := &crashStore{Store: store, n: n, lostReply: lost}
			cw := &chaosWriter{tbl: lake.NewTable(cs, root), store: cs, id: 0}
			done, werr := cw.keyed(ctx, w)
			if done && werr == nil && cs.ops.Load() <= n {
				t.Logf("lost reply %v: the write makes %d store operations; each crash left the table consistent", lost, n)
				break
			}
			after, err := clean.Latest(ctx)
			if err != nil {
				t.Fatalf("crash at op %d (lost reply %v): latest: %v", n, lost, err)
			}
			if after.Version == before.Version && SnapshotDigest(after) != SnapshotDigest(before) {
				t.Fatalf("crash at op %d (lost reply %v): v%d changed without a commit", n, lost, after.Version)
			}
			if after.Version != before.Version && after.Version != before.Version+1 {
				t.Fatalf("crash at op %d (lost reply %v): latest v%d, want v%d or v%d", n, lost, after.Version, before.Version, before.Version+1)
			}
			retry := &chaosWriter{tbl: clean, store: store, id: 0}
			if ok, err := retry.keyed(ctx, w); !ok || err != nil {
				t.Fatalf("crash at op %d (lost reply %v): retry: %v", n, lost, err)
			}
			CheckChaosTable(t, store, root, plans)
			checkCheckpoints(t, store, root, nil)
			if t.Failed() {
				t.Fatalf("crash at op %d (lost reply %v, error %v)", n, lost, werr)
			}
		}
	}
}
