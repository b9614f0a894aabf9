package lake_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/deltatest"
	"github.com/lakectl/lakectl/lake/mem"
)

// lostReply is a store whose next PutIfAbsent of a key containing match stores the
// object and then reports a failure, as when the reply to a successful write is lost
// or, on a file system, removing the temporary name fails after the link.
type lostReply struct {
	lake.Store
	match string
	armed bool
}

func (s *lostReply) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	err := s.Store.PutIfAbsent(ctx, key, data)
	if err == nil && s.armed && strings.Contains(key, s.match) {
		s.armed = false
		return errors.New("injected: connection reset after the write")
	}
	return err
}

// A commit whose write landed but whose reply was lost reports success, at the version
// it landed at, instead of an error that makes the caller redo (and so double) it.
func TestCommitLostReplyIsOurCommit(t *testing.T) {
	ctx := t.Context()
	store := &lostReply{Store: mem.New(), match: "00000000000000000001.json", armed: true}
	tbl := lake.NewTable(store, "t")
	if err := deltatest.Create(ctx, tbl); err != nil {
		t.Fatal(err)
	}
	tx := tbl.Begin(latest(t, tbl))
	a := deltatest.FileAdd("w", 1, "x")
	tx.Add(a)
	tx.SetTxn("app", 7)
	v, err := tx.Commit(ctx)
	if err != nil || v != 1 {
		t.Fatalf("commit with a lost reply: v%d, %v; want v1 and no error", v, err)
	}
	s := latest(t, tbl)
	if s.Version != 1 {
		t.Errorf("latest = v%d, want v1 (the commit landed once)", s.Version)
	}
}

// A caller that retries Commit of the same Tx after an error whose outcome is unknown
// gets the version where the first attempt landed; nothing is written twice.
func TestCommitRetryOfSameTxAfterUnknownOutcome(t *testing.T) {
	ctx := t.Context()
	store := &alwaysFailAfterWrite{Store: mem.New(), match: "00000000000000000001.json"}
	tbl := lake.NewTable(store, "t")
	if err := deltatest.Create(ctx, tbl); err != nil {
		t.Fatal(err)
	}
	s0 := latest(t, tbl)
	a := deltatest.FileAdd("w", 1, "x")
	tx := tbl.Begin(s0)
	tx.Add(a)
	tx.Remove(deltatest.FileAdd("old", 1, "x").RemoveAt(a0()))
	tx.SetTxn("app", 7)
	// The store is unreachable for reads too, so the first Commit cannot tell.
	store.failReads = true
	if _, err := tx.Commit(ctx); err == nil {
		t.Fatal("first commit: no error, want the injected one")
	}
	store.failReads = false
	v, err := tx.Commit(ctx)
	if err != nil || v != 1 {
		t.Fatalf("retried commit: v%d, %v; want v1, the version the first attempt wrote", v, err)
	}
	if s := latest(t, tbl); s.Version != 1 {
		t.Errorf("latest = v%d, want v1 (no second commit)", s.Version)
	}
}

// alwaysFailAfterWrite stores PutIfAbsent objects of keys containing match and then
// fails; with failReads it also fails every Get.
type alwaysFailAfterWrite struct {
	lake.Store
	match     string
	failReads bool
}

func (s *alwaysFailAfterWrite) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	if err := s.Store.PutIfAbsent(ctx, key, data); err != nil {
		return err
	}
	if strings.Contains(key, s.match) {
		return errors.New("injected: timeout after the write")
	}
	return nil
}

func (s *alwaysFailAfterWrite) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if s.failReads {
		return nil, errors.New("injected: store unreachable")
	}
	return s.Store.Get(ctx, key)
}
