package main

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/fs"
	"github.com/lakectl/lakectl/lake/parquetstats"
)

// fixtureRow is a row of the data files of the test table; p is its partition column
// and lives in the path, not in the file.
type fixtureRow struct {
	ID   int64  `parquet:"id"`
	Name string `parquet:"name"`
}

// fixtureTable is a small partitioned table written through package lake, with a
// clock far in the past so that vacuum's retention has expired for what it removed.
type fixtureTable struct {
	dir   string
	table *lake.Table
	clock time.Time
}

// fixtureStart is how long before now the fixture's clock starts: older than the
// default retention of 168h.
const fixtureStart = 30 * 24 * time.Hour

func newFixtureTable(t *testing.T) *fixtureTable {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "events")
	store, err := fs.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixtureTable{dir: dir, clock: time.Now().Add(-fixtureStart).Truncate(time.Second)}
	// Each commit is a minute after the one before, so time travel has distinct times.
	f.table = lake.NewTable(store, "", lake.WithClock(func() time.Time {
		f.clock = f.clock.Add(time.Minute)
		return f.clock
	}), lake.WithCheckpointInterval(0))
	return f
}

// writeFile writes a Parquet data file of n rows in partition p, dated like the
// fixture's clock, and returns its add.
func (f *fixtureTable) writeFile(t *testing.T, p, name string, n int) lake.Add {
	t.Helper()
	rel := fmt.Sprintf("p=%s/%s.parquet", p, name)
	path := filepath.Join(f.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	rows := make([]fixtureRow, n)
	for i := range rows {
		rows[i] = fixtureRow{ID: int64(i), Name: fmt.Sprintf("%s-%d", name, i)}
	}
	if err := parquet.WriteFile(path, rows); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	f.age(t, rel)
	st, err := parquetstats.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	stats, err := parquetstats.JSON(st)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return lake.Add{
		Path:             lake.EncodePath(rel),
		PartitionValues:  map[string]*string{"p": &p},
		Size:             info.Size(),
		ModificationTime: lake.Millis(info.ModTime()),
		DataChange:       true,
		Stats:            stats,
	}
}

// age dates the file at rel (relative to the table) like the fixture's clock, as if
// it had been written then.
func (f *fixtureTable) age(t *testing.T, rel string) {
	t.Helper()
	path := filepath.Join(f.dir, filepath.FromSlash(rel))
	if err := os.Chtimes(path, f.clock, f.clock); err != nil {
		t.Fatal(err)
	}
}

// commit commits adds and removes on top of the latest snapshot (creating the table
// when there is none) and returns the version.
func (f *fixtureTable) commit(t *testing.T, op string, adds []lake.Add, removes []lake.Remove, txns map[string]int64) int64 {
	t.Helper()
	ctx := t.Context()
	snap, err := f.table.Latest(ctx)
	if err != nil && !errors.Is(err, iofs.ErrNotExist) {
		t.Fatal(err)
	}
	tx := f.table.Begin(snap)
	if snap == nil {
		schema := lake.NewSchema(
			lake.NewField("id", lake.Primitive("long"), false),
			lake.NewField("name", lake.Primitive("string"), false),
			lake.NewField("p", lake.Primitive("string"), true),
		)
		js, err := schema.JSON()
		if err != nil {
			t.Fatal(err)
		}
		tx.SetMetadata(lake.Metadata{Name: "events", SchemaString: js, PartitionColumns: []string{"p"}})
	}
	tx.Add(adds...)
	tx.Remove(removes...)
	for app, v := range txns {
		tx.SetTxn(app, v)
	}
	tx.Operation(op, nil)
	v, err := tx.Commit(ctx)
	if err != nil {
		t.Fatalf("commit %s: %v", op, err)
	}
	return v
}

// events is the fixture's history: three commits and two files no commit references.
type events struct {
	*fixtureTable
	a1, b1, a2 lake.Add // a1 was replaced by a2 in v2
	orphanOld  string   // never committed, as old as the table
	orphanNew  string   // never committed, written just now (a write in flight)
}

// newEvents writes
//
//	v0 CREATE TABLE  add p=a/a1 (3 rows)
//	v1 WRITE         add p=b/b1 (2 rows), txn demo/app = 7
//	v2 REPLACE       remove p=a/a1, add p=a/a2 (4 rows)
func newEvents(t *testing.T) *events {
	t.Helper()
	e := &events{fixtureTable: newFixtureTable(t)}
	e.a1 = e.writeFile(t, "a", "a1", 3)
	e.commit(t, "CREATE TABLE", []lake.Add{e.a1}, nil, nil)
	e.b1 = e.writeFile(t, "b", "b1", 2)
	e.commit(t, "WRITE", []lake.Add{e.b1}, nil, map[string]int64{"demo/app": 7})
	e.a2 = e.writeFile(t, "a", "a2", 4)
	e.commit(t, "REPLACE", []lake.Add{e.a2}, []lake.Remove{e.a1.RemoveAt(e.clock)}, nil)
	e.orphanOld = e.writeFile(t, "a", "orphan-old", 1).DecodedPath()
	orphanNew := e.writeFile(t, "b", "orphan-new", 1).DecodedPath()
	now := time.Now()
	if err := os.Chtimes(filepath.Join(e.dir, filepath.FromSlash(orphanNew)), now, now); err != nil {
		t.Fatal(err)
	}
	e.orphanNew = orphanNew
	return e
}

// exists reports whether the file at rel (relative to the table) is on disk.
func (e *events) exists(t *testing.T, rel string) bool {
	t.Helper()
	_, err := os.Stat(filepath.Join(e.dir, filepath.FromSlash(rel)))
	if err != nil && !errors.Is(err, iofs.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}
