package lake_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/deltatest"
	"github.com/lakectl/lakectl/lake/mem"
)

type checkRow struct {
	ID int64 `parquet:"id"`
}

// checkTable is a table of five Parquet files of 3 rows each, committed with their
// true sizes and row counts, then damaged one way per file:
//
//	ok        as the log says
//	missing   deleted from the store
//	truncated its last 100 bytes cut off (no footer)
//	resized   committed with a size one byte off
//	recounted committed with numRecords 4
func checkTable(t *testing.T) (*lake.Table, *mem.Store, map[string]lake.Add) {
	t.Helper()
	ctx := t.Context()
	store := mem.New()
	tbl := lake.NewTable(store, "t")
	if err := deltatest.Create(ctx, tbl); err != nil {
		t.Fatal(err)
	}
	adds := map[string]lake.Add{}
	tx := tbl.Begin(latest(t, tbl))
	for _, name := range []string{"ok", "missing", "truncated", "resized", "recounted"} {
		var buf bytes.Buffer
		if err := parquet.Write(&buf, []checkRow{{1}, {2}, {3}}); err != nil {
			t.Fatal(err)
		}
		a := deltatest.FileAdd(name, 0, "x")
		a.Size, a.Stats = int64(buf.Len()), `{"numRecords":3}`
		switch name {
		case "resized":
			a.Size++
		case "recounted":
			a.Stats = `{"numRecords":4}`
		}
		if err := store.PutIfAbsent(ctx, "t/"+a.DecodedPath(), buf.Bytes()); err != nil {
			t.Fatal(err)
		}
		adds[name] = a
		tx.Add(a)
	}
	if _, err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := store.Delete(ctx, "t/"+adds["missing"].DecodedPath()); err != nil {
		t.Fatal(err)
	}
	key := "t/" + adds["truncated"].DecodedPath()
	data, err := lake.ReadAll(ctx, store, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Put(ctx, key, bytes.NewReader(data[:len(data)-100]), int64(len(data)-100)); err != nil {
		t.Fatal(err)
	}
	return tbl, store, adds
}

func TestCheckFindsEachProblem(t *testing.T) {
	tbl, _, adds := checkTable(t)
	rep, err := tbl.Check(t.Context(), latest(t, tbl))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]lake.ProblemKind{
		adds["missing"].Path:   lake.ProblemMissing,
		adds["truncated"].Path: lake.ProblemUnreadable,
		adds["resized"].Path:   lake.ProblemSize,
		adds["recounted"].Path: lake.ProblemRows,
	}
	got := map[string]lake.ProblemKind{}
	for _, p := range rep.Problems {
		got[p.File.Path] = p.Kind
	}
	if rep.Files != 5 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("check: %d files, problems %v; want 5 files, %v", rep.Files, got, want)
	}
	for _, p := range rep.Problems {
		if p.Kind == lake.ProblemRows && !strings.Contains(p.Detail, "3 rows, the log says 4") {
			t.Errorf("rows problem detail %q, want the two counts", p.Detail)
		}
	}
	if m := rep.Missing(); len(m) != 1 || m[0].File.Path != adds["missing"].Path {
		t.Errorf("Missing() = %v, want the missing file only", m)
	}
}

// statFails is a store whose Stat fails with a store error (not not-found).
type statFails struct{ lake.Store }

func (s statFails) Stat(ctx context.Context, key string) (lake.ObjectInfo, error) {
	if strings.Contains(key, "_delta_log") {
		return s.Store.Stat(ctx, key)
	}
	return lake.ObjectInfo{}, errors.New("injected: connection reset")
}

// rangeFails is a store whose ranged reads fail with a store error.
type rangeFails struct{ lake.Store }

func (s rangeFails) GetRange(context.Context, string, int64, int64) (io.ReadCloser, error) {
	return nil, errors.New("injected: connection reset")
}

// TestCheckStoreErrorIsNotAProblem: a store that does not answer fails the check; it
// never makes a file look missing or unreadable, which a repair would remove.
func TestCheckStoreErrorIsNotAProblem(t *testing.T) {
	_, store, _ := checkTable(t)
	for _, s := range []lake.Store{statFails{store}, rangeFails{store}} {
		tbl := lake.NewTable(s, "t")
		rep, err := tbl.Check(t.Context(), latest(t, tbl))
		if err == nil || !strings.Contains(err.Error(), "connection reset") {
			t.Errorf("%T: check = %+v, %v; want the store's error", s, rep, err)
		}
	}
}

func TestRepairRemovesInOneCommit(t *testing.T) {
	ctx := t.Context()
	tbl, store, adds := checkTable(t)
	snap := latest(t, tbl)
	rep, err := tbl.Check(ctx, snap)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tbl.Repair(ctx, snap, rep.Missing())
	if err != nil {
		t.Fatal(err)
	}
	if res.Version != snap.Version+1 || len(res.Removed) != 1 || res.Removed[0].Path != adds["missing"].Path {
		t.Fatalf("repair: %+v, want v%d removing %s", res, snap.Version+1, adds["missing"].Path)
	}
	after := latest(t, tbl)
	if _, ok := after.File(adds["missing"].DecodedPath()); ok || after.NumFiles() != 4 {
		t.Errorf("after repair: %v live, want the 4 files that exist", paths(after))
	}
	hist, err := tbl.History(ctx)
	if err != nil {
		t.Fatal(err)
	}
	last := hist[len(hist)-1]
	if last.Operation != lake.OperationFSCK || last.FilesRemoved != 1 || last.FilesAdded != 0 {
		t.Errorf("repair commit: %+v, want one FSCK commit removing 1 file", last)
	}
	if rep, err := tbl.Check(ctx, after); err != nil || len(rep.Missing()) != 0 {
		t.Errorf("check after repair: %+v, %v; want nothing missing", rep, err)
	}

	// The corrupt files go too when asked for, in one more commit; the data stays in the
	// store until vacuum.
	rep, err = tbl.Check(ctx, after)
	if err != nil {
		t.Fatal(err)
	}
	res, err = tbl.Repair(ctx, after, rep.Problems)
	if err != nil || res.Version != after.Version+1 || len(res.Removed) != 3 {
		t.Fatalf("repair of the corrupt files: %+v, %v; want 3 removed in v%d", res, err, after.Version+1)
	}
	if _, err := store.Stat(ctx, "t/"+adds["truncated"].DecodedPath()); err != nil {
		t.Errorf("repair deleted a file's data: %v", err)
	}
}

// TestRepairSkipsARestoredFile: a file restored between check and repair stays live,
// and with nothing left to remove nothing is committed.
func TestRepairSkipsARestoredFile(t *testing.T) {
	ctx := t.Context()
	tbl, store, adds := checkTable(t)
	snap := latest(t, tbl)
	rep, err := tbl.Check(ctx, snap)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := parquet.Write(&buf, []checkRow{{1}, {2}, {3}}); err != nil {
		t.Fatal(err)
	}
	if err := store.PutIfAbsent(ctx, "t/"+adds["missing"].DecodedPath(), buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	res, err := tbl.Repair(ctx, snap, rep.Missing())
	if err != nil || res.Version != -1 || len(res.Removed) != 0 || len(res.Skipped) != 1 {
		t.Errorf("repair after the file came back: %+v, %v; want nothing committed, 1 skipped", res, err)
	}
	if v := latest(t, tbl).Version; v != snap.Version {
		t.Errorf("latest v%d, want v%d (no commit)", v, snap.Version)
	}
}
