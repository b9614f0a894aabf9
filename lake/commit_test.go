package lake_test

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lakectl/lakectl/internal/golden"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/deltatest"
	"github.com/lakectl/lakectl/lake/mem"
)

func newTable(t *testing.T, opts ...lake.Option) (*lake.Table, *mem.Store) {
	t.Helper()
	store := mem.New()
	tbl := lake.NewTable(store, "t", opts...)
	if err := deltatest.Create(t.Context(), tbl); err != nil {
		t.Fatalf("create: %v", err)
	}
	return tbl, store
}

func latest(t *testing.T, tbl *lake.Table) *lake.Snapshot {
	t.Helper()
	s, err := tbl.Latest(t.Context())
	if err != nil {
		t.Fatalf("latest: %v", err)
	}
	return s
}

func paths(s *lake.Snapshot) []string {
	var out []string
	for _, a := range s.Files() {
		out = append(out, a.Path)
	}
	return out
}

func TestCreateAppendRemove(t *testing.T) {
	tbl, store := newTable(t)
	s0 := latest(t, tbl)
	if s0.Version != 0 || s0.Protocol.MinReaderVersion != 1 || s0.Protocol.MinWriterVersion != 2 || s0.NumFiles() != 0 {
		t.Fatalf("new table: v%d %+v %d files, want v0 protocol 1/2 and no files", s0.Version, s0.Protocol, s0.NumFiles())
	}
	if s0.Metadata.ID == "" || s0.Metadata.CreatedTime == nil {
		t.Errorf("new table metadata has no id or createdTime: %+v", s0.Metadata)
	}

	a, b := deltatest.FileAdd("w", 1, "x"), deltatest.FileAdd("w", 2, "y")
	tx := tbl.Begin(s0)
	tx.Add(a, b)
	if v, err := tx.Commit(t.Context()); err != nil || v != 1 {
		t.Fatalf("append: v%d, %v; want v1", v, err)
	}
	if _, err := tx.Commit(t.Context()); err == nil {
		t.Errorf("a second Commit of the same Tx succeeded")
	}
	s1 := latest(t, tbl)
	if got, want := paths(s1), []string{a.Path, b.Path}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("files after append = %v, want %v", got, want)
	}

	tx = tbl.Begin(s1)
	tx.Remove(a.RemoveAt(s1.Timestamp))
	tx.Operation("DELETE", map[string]any{"predicate": "p = 'x'"})
	tx.Info("job", "test")
	if v, err := tx.Commit(t.Context()); err != nil || v != 2 {
		t.Fatalf("remove: v%d, %v; want v2", v, err)
	}
	s2 := latest(t, tbl)
	if got := paths(s2); len(got) != 1 || got[0] != b.Path {
		t.Fatalf("files after remove = %v, want [%s]", got, b.Path)
	}

	// The commit file is what the protocol says: commitInfo first, with lakectl's facts.
	data, err := lake.ReadAll(t.Context(), store, "t/_delta_log/00000000000000000002.json")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var first map[string]map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	ci := first["commitInfo"]
	if ci == nil || ci["operation"] != "DELETE" || ci["engineInfo"] != "lakectl" || ci["job"] != "test" ||
		ci["txnId"] == "" || ci["timestamp"] == nil || ci["readVersion"] != float64(1) {
		t.Errorf("commitInfo = %v, want operation DELETE, engineInfo lakectl, job, txnId, timestamp, readVersion 1", ci)
	}
	hist, err := tbl.History(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 3 || hist[2].Operation != "DELETE" || hist[2].FilesRemoved != 1 || hist[1].FilesAdded != 2 ||
		hist[2].Parameters["predicate"] != "p = 'x'" {
		t.Errorf("history = %+v", hist)
	}
}

func TestCommitValidates(t *testing.T) {
	tbl, _ := newTable(t)
	s := latest(t, tbl)
	noPartition := deltatest.FileAdd("w", 1, "x")
	noPartition.PartitionValues = nil
	tx := tbl.Begin(s)
	tx.Add(noPartition)
	if _, err := tx.Commit(t.Context()); err == nil || !strings.Contains(err.Error(), "partition") {
		t.Errorf("add without partition values: err = %v, want a partition error", err)
	}
	tx = lake.NewTable(mem.New(), "n").Begin(nil)
	tx.Add(deltatest.FileAdd("w", 1, "x"))
	if _, err := tx.Commit(t.Context()); err == nil {
		t.Errorf("new table without metadata committed")
	}
	tx = lake.NewTable(mem.New(), "n").Begin(nil)
	md := deltatest.Metadata()
	md.PartitionColumns = []string{"nope"}
	tx.SetMetadata(md)
	if _, err := tx.Commit(t.Context()); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("partition column not in schema: err = %v", err)
	}
	// Creating a table that exists conflicts.
	if err := deltatest.Create(t.Context(), tbl); !errors.As(err, new(*lake.ConflictError)) {
		t.Errorf("second create: err = %v, want a ConflictError", err)
	}
}

func TestAppendOnlyRefusesRemoves(t *testing.T) {
	tbl := lake.NewTable(mem.New(), "t")
	md := deltatest.Metadata()
	md.Configuration = map[string]string{"delta.appendOnly": "true"}
	tx := tbl.Begin(nil)
	tx.SetMetadata(md)
	a := deltatest.FileAdd("w", 1, "x")
	tx.Add(a)
	if _, err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	tx = tbl.Begin(latest(t, tbl))
	tx.Remove(a.RemoveAt(a0()))
	if _, err := tx.Commit(t.Context()); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("remove on append-only table: err = %v", err)
	}
}

func TestNeverWritesUnsupported(t *testing.T) {
	dir := golden.DeltaDir(t)
	store := copyToMem(t, filepath.Join(dir, "table-with-dv-small"), "t")
	tbl := lake.NewTable(store, "t")
	// A hand-made snapshot cannot be had; Begin on nil would create, and v0 exists.
	tx := tbl.Begin(nil)
	tx.SetMetadata(deltatest.Metadata())
	if _, err := tx.Commit(t.Context()); err == nil {
		t.Fatal("commit over a deletion-vector table succeeded")
	}
	objs, _ := store.List(t.Context(), "t/_delta_log/", "")
	if len(objs) != 2 {
		t.Errorf("log has %d files after refused writes, want the 2 it had", len(objs))
	}

	// A writer-3 table that reads fine is still not written.
	w3 := lake.NewTable(mem.New(), "t")
	if err := deltatest.Create(t.Context(), w3); err != nil {
		t.Fatal(err)
	}
	raw := `{"protocol":{"minReaderVersion":1,"minWriterVersion":3}}` + "\n"
	if err := w3.Store().PutIfAbsent(t.Context(), "t/_delta_log/00000000000000000001.json", []byte(raw)); err != nil {
		t.Fatal(err)
	}
	s := latest(t, w3)
	tx = w3.Begin(s)
	tx.Add(deltatest.FileAdd("w", 1, "x"))
	var unsupported *lake.UnsupportedError
	if _, err := tx.Commit(t.Context()); !errors.As(err, &unsupported) || !strings.Contains(unsupported.Feature, "writer version 3") {
		t.Errorf("commit to a writer-3 table: err = %v, want UnsupportedError naming writer version 3", err)
	}
}

func a0() time.Time { return time.Unix(1_700_000_000, 0) }
