// Package deltatest holds Delta-log tests that run against any lake.Store: the
// in-memory store, the file system, and real S3 servers. A backend's test passes a
// function that opens a fresh, empty store:
//
//	func TestConcurrentAppends(t *testing.T) {
//		deltatest.ConcurrentAppends(t, func(t testing.TB) lake.Store { return mem.New() }, 16)
//	}
package deltatest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/lakectl/lakectl/lake"
)

// Root is the table root the tests use inside a store.
const Root = "tables/appends"

// Metadata returns the metadata of the small table the tests write: an id column and
// a string partition column p.
func Metadata() lake.Metadata {
	s := lake.NewSchema(
		lake.NewField("id", lake.Primitive("long"), false),
		lake.NewField("p", lake.Primitive("string"), true),
	)
	js, err := s.JSON()
	if err != nil {
		panic(err) // a constant schema always encodes
	}
	return lake.Metadata{SchemaString: js, PartitionColumns: []string{"p"}}
}

// FileAdd returns the add of a data file named for its writer and sequence number, in
// partition p.
func FileAdd(writer string, seq int, p string) lake.Add {
	return lake.Add{
		Path:            fmt.Sprintf("p=%s/part-%s-%05d.parquet", p, writer, seq),
		PartitionValues: map[string]*string{"p": &p},
		Size:            100,
		DataChange:      true,
		Stats:           `{"numRecords":1}`,
	}
}

// Create makes the empty table at v0.
func Create(ctx context.Context, t *lake.Table) error {
	tx := t.Begin(nil)
	tx.SetMetadata(Metadata())
	tx.Operation("CREATE TABLE", nil)
	_, err := tx.Commit(ctx)
	return err
}

// Append commits one file as a blind append and returns the version it landed at.
func Append(ctx context.Context, t *lake.Table, writer string, seq int) (int64, error) {
	snap, err := t.Latest(ctx)
	if err != nil {
		return -1, err
	}
	tx := t.Begin(snap)
	tx.Add(FileAdd(writer, seq, "x"))
	tx.Operation("WRITE", map[string]any{"mode": "Append"})
	return tx.Commit(ctx)
}

// ConcurrentAppends has writers goroutines append one file each, at once, to a fresh
// table, and checks that every commit landed exactly once at versions 1..writers.
func ConcurrentAppends(t *testing.T, newStore func(t testing.TB) lake.Store, writers int) {
	ctx := t.Context()
	store := newStore(t)
	tbl := lake.NewTable(store, Root)
	if err := Create(ctx, tbl); err != nil {
		t.Fatalf("create: %v", err)
	}
	versions := make([]int64, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range writers {
		wg.Go(func() {
			<-start
			versions[i], errs[i] = Append(ctx, tbl, fmt.Sprintf("w%03d", i), 0)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	seen := map[int64]int{}
	for i, v := range versions {
		if prev, dup := seen[v]; dup {
			t.Fatalf("writers %d and %d both report version %d", prev, i, v)
		}
		seen[v] = i
	}
	want := map[string]int{}
	for i := range writers {
		want[FileAdd(fmt.Sprintf("w%03d", i), 0, "x").Path] = 1
	}
	CheckLog(t, store, Root, want)
}

// CheckLog checks a table written by Create and Append: versions 0..n are all there,
// each commit after v0 adds exactly one file, and the latest snapshot holds exactly the
// files of want (path -> 1), each added once in the whole log.
func CheckLog(t *testing.T, store lake.Store, root string, want map[string]int) {
	t.Helper()
	ctx := t.Context()
	tbl := lake.NewTable(store, root)
	snap, err := tbl.Latest(ctx)
	if err != nil {
		t.Fatalf("latest: %v", err)
	}
	if got, wantV := snap.Version, int64(len(want)); got != wantV {
		t.Errorf("latest version = %d, want %d (one commit per append)", got, wantV)
	}
	hist, err := tbl.History(ctx)
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	added := map[string]int{}
	for i, c := range hist {
		if c.Version != int64(i) {
			t.Fatalf("history[%d] is v%d: versions are not contiguous from 0", i, c.Version)
		}
		if i > 0 && c.FilesAdded != 1 {
			t.Errorf("v%d adds %d files, want 1", c.Version, c.FilesAdded)
		}
	}
	for v := int64(1); v <= snap.Version; v++ {
		s, err := tbl.At(ctx, v)
		if err != nil {
			t.Fatalf("at v%d: %v", v, err)
		}
		if s.NumFiles() != int(v) {
			t.Errorf("v%d has %d files, want %d", v, s.NumFiles(), v)
		}
	}
	for _, a := range snap.Files() {
		added[a.Path]++
	}
	if diff := diffCounts(added, want); diff != "" {
		t.Errorf("live files differ from the appends:\n%s", diff)
	}
}

func diffCounts(got, want map[string]int) string {
	var lines []string
	for k, n := range want {
		if got[k] != n {
			lines = append(lines, fmt.Sprintf("  %s: got %d, want %d", k, got[k], n))
		}
	}
	for k, n := range got {
		if _, ok := want[k]; !ok {
			lines = append(lines, fmt.Sprintf("  %s: got %d, want 0", k, n))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
