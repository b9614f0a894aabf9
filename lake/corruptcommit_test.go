package lake_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/deltatest"
	"github.com/lakectl/lakectl/lake/mem"
)

func TestCorruptCommitMem(t *testing.T) { corruptCommits(t, newMem) }
func TestCorruptCommitFS(t *testing.T)  { corruptCommits(t, newFS) }

// corruptCommits runs the corrupt-commit specifications against a store backend.
func corruptCommits(t *testing.T, newStore func(testing.TB) lake.Store) {
	t.Run("ReadsFail", func(t *testing.T) { corruptCommitFailsReads(t, newStore) })
	t.Run("VacuumRefuses", func(t *testing.T) { corruptCommitStopsVacuum(t, newStore) })
}

// corruptCommitFailsReads replaces commit v2 of a three-version table with content that
// is not a valid commit, and checks that every read that needs v2 fails with a
// *lake.CorruptCommitError naming the file (and the line, where one line is at fault).
func corruptCommitFailsReads(t *testing.T, newStore func(testing.TB) lake.Store) {
	const file = "_delta_log/00000000000000000002.json"
	valid := `{"commitInfo":{"operation":"WRITE"}}`
	cases := []struct {
		name, content string
		line          int
		reason        string
	}{
		{"empty", "", 0, "empty commit file"},
		{"blank lines only", "\n \n", 0, "commit file holds no action"},
		{"truncated line", `{"add":{"path":"p=x/a.parquet","size":1`, 1, "not a JSON action"},
		{"garbage after a valid line", valid + "\nnot json\n", 2, "not a JSON action"},
		{"null", "null\n", 1, "not a JSON object"},
		{"array", "[1]\n", 1, "not a JSON object"},
		{"empty object", "{}\n", 1, "empty object"},
		{"null action", `{"add":null}`, 1, `action "add" is null`},
		{"two actions on a line", `{"txn":{"appId":"a","version":1},"commitInfo":{}}`, 1, "more than one action"},
		{"add without a path", `{"add":{"size":1,"dataChange":true}}`, 1, "without a path"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := t.Context()
			store := newStore(t)
			tbl := lake.NewTable(store, "t")
			if err := deltatest.Create(ctx, tbl); err != nil {
				t.Fatal(err)
			}
			for seq := range 2 {
				if _, err := deltatest.Append(ctx, tbl, "w", seq); err != nil {
					t.Fatal(err)
				}
			}
			if err := store.Put(ctx, "t/"+file, bytes.NewReader([]byte(c.content)), int64(len(c.content))); err != nil {
				t.Fatal(err)
			}
			reads := map[string]func() error{
				"Latest":  func() error { _, err := tbl.Latest(ctx); return err },
				"At(2)":   func() error { _, err := tbl.At(ctx, 2); return err },
				"History": func() error { _, err := tbl.History(ctx); return err },
			}
			for name, read := range reads {
				err := read()
				var corrupt *lake.CorruptCommitError
				if !errors.Is(err, lake.ErrCorruptCommit) || !errors.As(err, &corrupt) {
					t.Errorf("%s: %v, want a corrupt commit error", name, err)
					continue
				}
				if corrupt.Version != 2 || corrupt.Path != file || corrupt.Line != c.line || !bytes.Contains([]byte(corrupt.Reason), []byte(c.reason)) {
					t.Errorf("%s: %+v, want v2 %s line %d: %q", name, *corrupt, file, c.line, c.reason)
				}
				if want := file; !bytes.Contains([]byte(err.Error()), []byte(want)) {
					t.Errorf("%s: %q does not name %s", name, err, want)
				}
			}
			// The versions before it do not need it.
			if s, err := tbl.At(ctx, 1); err != nil || s.NumFiles() != 1 {
				t.Errorf("At(1): %v, want the one file of v1", err)
			}
		})
	}
}

// TestUnknownActionIsSkipped checks that a valid action of a type lakectl does not read
// (here change data) is not taken for corruption.
func TestUnknownActionIsSkipped(t *testing.T) {
	ctx := t.Context()
	tbl, store := newTable(t)
	commit := `{"cdc":{"path":"_change_data/c.parquet","size":1,"dataChange":false}}` + "\n" +
		`{"commitInfo":{"operation":"WRITE"}}` + "\n"
	if err := store.PutIfAbsent(ctx, "t/_delta_log/00000000000000000001.json", []byte(commit)); err != nil {
		t.Fatal(err)
	}
	if s, err := tbl.Latest(ctx); err != nil || s.Version != 1 {
		t.Fatalf("latest: %v, want v1", err)
	}
}

// corruptCommitStopsVacuum checks that vacuum deletes nothing, dry run or not, when a
// commit is corrupt: the commit whose add is lost (the file would look unreferenced),
// and a commit older than the newest checkpoint, which no load of the latest version
// reads.
func corruptCommitStopsVacuum(t *testing.T, newStore func(testing.TB) lake.Store) {
	for _, corrupt := range []int64{3, 11} {
		t.Run(fmt.Sprintf("v%d", corrupt), func(t *testing.T) {
			ctx := t.Context()
			store := newStore(t)
			tbl := lake.NewTable(store, "t")
			if err := deltatest.Create(ctx, tbl); err != nil {
				t.Fatal(err)
			}
			// v1..v11 each add one file (v10 is checkpointed); every file is stored.
			for seq := range 11 {
				key := "t/" + deltatest.FileAdd("w", seq, "x").DecodedPath()
				if err := store.PutIfAbsent(ctx, key, []byte("parquet")); err != nil {
					t.Fatal(err)
				}
				if _, err := deltatest.Append(ctx, tbl, "w", seq); err != nil {
					t.Fatal(err)
				}
			}
			file := fmt.Sprintf("t/_delta_log/%020d.json", corrupt)
			if err := store.Put(ctx, file, bytes.NewReader(nil), 0); err != nil {
				t.Fatal(err)
			}
			if corrupt < 10 {
				// The latest snapshot comes from the checkpoint and does not need it.
				if _, err := tbl.Latest(ctx); err != nil {
					t.Fatalf("latest from the checkpoint: %v", err)
				}
			}
			before, err := store.List(ctx, "", "")
			if err != nil {
				t.Fatal(err)
			}
			for _, dry := range []bool{true, false} {
				// Retention tiny and now far ahead: everything not needed is expired.
				res, err := tbl.Vacuum(ctx, lake.VacuumOptions{Retain: time.Nanosecond, DryRun: dry, Now: time.Now().Add(time.Hour)})
				if !errors.Is(err, lake.ErrCorruptCommit) || len(res.Files) != 0 {
					t.Errorf("vacuum (dry run %v): %d files, %v; want a refusal for the corrupt commit", dry, len(res.Files), err)
				}
				if err != nil && !bytes.Contains([]byte(err.Error()), []byte("refusing to delete anything")) {
					t.Errorf("vacuum (dry run %v): %q does not say why it deletes nothing", dry, err)
				}
			}
			after, err := store.List(ctx, "", "")
			if err != nil {
				t.Fatal(err)
			}
			if len(after) != len(before) {
				t.Errorf("vacuum deleted %d objects", len(before)-len(after))
			}
		})
	}
}

// TestVacuumWithoutCorruptCommitStillDeletes guards the refusal against refusing too
// much: the same table with its commits intact vacuums its old log.
func TestVacuumWithoutCorruptCommitStillDeletes(t *testing.T) {
	ctx := t.Context()
	store := mem.New()
	tbl := lake.NewTable(store, "t")
	if err := deltatest.Create(ctx, tbl); err != nil {
		t.Fatal(err)
	}
	for seq := range 11 {
		if _, err := deltatest.Append(ctx, tbl, "w", seq); err != nil {
			t.Fatal(err)
		}
	}
	res, err := tbl.Vacuum(ctx, lake.VacuumOptions{Retain: time.Nanosecond, DryRun: true, Now: time.Now().Add(time.Hour)})
	if err != nil || res.LogFiles == 0 {
		t.Errorf("vacuum: %d log files, %v; want the commits before checkpoint v10", res.LogFiles, err)
	}
}
