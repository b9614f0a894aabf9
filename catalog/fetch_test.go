package catalog

import (
	"bytes"
	"errors"
	"sync"
	"testing"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
	"github.com/lakectl/lakectl/lake/mem"
)

// TestFetchBringsInEveryTablesFiles: Fetch brings the files of several tables' plans
// into the cache at once (an in-memory store stands in for S3 here: the cache copies
// its objects as it would an S3 lake's), and a file the store lacks is left to the
// registration to report.
func TestFetchBringsInEveryTablesFiles(t *testing.T) {
	ctx := t.Context()
	store := mem.New()
	c := cache.New(store, t.TempDir(), 0)
	var plans []*Plan
	for _, root := range []string{"silver/events", "ref/users"} {
		table := lake.NewTable(store, root)
		var adds []lake.Add
		for _, name := range []string{"a.parquet", "b.parquet"} {
			body := []byte(root + "/" + name)
			if err := store.Put(ctx, table.Key(name), bytes.NewReader(body), int64(len(body))); err != nil {
				t.Fatal(err)
			}
			adds = append(adds, lake.Add{Path: name, Size: int64(len(body))})
		}
		adds = append(adds, lake.Add{Path: "missing.parquet", Size: 1})
		plans = append(plans, &Plan{Source: Source{Root: root, Table: table, Cache: c}, Adds: adds})
	}
	release := Fetch(ctx, plans)
	defer release()
	if st := c.Stats(); st.Downloads != 4 {
		t.Errorf("stats = %+v, want the 4 files there are downloaded", st)
	}
	for _, p := range plans {
		for _, a := range p.Adds {
			if held, want := c.Holds(p.Source.Table.Key(a.Path)), a.Path != "missing.parquet"; held != want {
				t.Errorf("%s/%s held = %v, want %v", p.Source.Root, a.Path, held, want)
			}
		}
	}
}

// TestSnapshotOnceForConcurrentCallers: callers that ask for a table's snapshot at
// once all get the same one.
func TestSnapshotOnceForConcurrentCallers(t *testing.T) {
	ctx := t.Context()
	store := mem.New()
	table := lake.NewTable(store, "silver/events")
	tx := table.Begin(nil)
	tx.SetMetadata(lake.Metadata{SchemaString: `{"type":"struct","fields":[{"name":"n","type":"long","nullable":true,"metadata":{}}]}`})
	if _, err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	cat := ForLake(Config{Store: store, URL: "mem://lake"})
	snaps := make([]*lake.Snapshot, 8)
	var wg sync.WaitGroup
	for i := range snaps {
		wg.Go(func() {
			var err error
			if snaps[i], err = cat.Snapshot(ctx, engine.TableName{Schema: "silver", Name: "events"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i, s := range snaps {
		if s != snaps[0] {
			t.Errorf("caller %d got another snapshot than caller 0", i)
		}
	}
}

// TestPlanAllKeepsTheOrder: PlanAll returns the plans in the order of the names, and
// of several failures the first name's, whichever failed first.
func TestPlanAllKeepsTheOrder(t *testing.T) {
	names := []engine.TableName{{Schema: "silver", Name: "a"}, {Schema: "silver", Name: "b"}, {Schema: "silver", Name: "c"}}
	plans, err := PlanAll(names, func(n engine.TableName) (*Plan, error) {
		return &Plan{Source: Source{Root: n.String()}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range plans {
		if p.Source.Root != names[i].String() {
			t.Errorf("plan %d is %s's, want %s's", i, p.Source.Root, names[i])
		}
	}
	_, err = PlanAll(names, func(n engine.TableName) (*Plan, error) {
		if n.Name == "a" {
			return &Plan{}, nil
		}
		return nil, errors.New(n.Name + " failed")
	})
	if err == nil || err.Error() != "b failed" {
		t.Errorf("err = %v, want b's", err)
	}
}
