package lake_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/deltatest"
	"github.com/lakectl/lakectl/lake/mem"
)

func TestVacuum(t *testing.T) {
	ctx := t.Context()
	c := &clock{now: t0}
	store := mem.New()
	tbl := lake.NewTable(store, "t", lake.WithClock(c.Now))
	if err := deltatest.Create(ctx, tbl); err != nil {
		t.Fatal(err)
	}
	live := deltatest.FileAdd("w", 1, "x")
	oldRemoved := deltatest.FileAdd("w", 2, "x")
	newRemoved := deltatest.FileAdd("w", 3, "x")
	putData := func(rel string, mod time.Time) {
		key := "t/" + rel
		if err := store.PutIfAbsent(ctx, key, []byte("parquet")); err != nil {
			t.Fatal(err)
		}
		store.SetModTime(key, mod)
	}
	for _, a := range []lake.Add{live, oldRemoved, newRemoved} {
		putData(a.DecodedPath(), t0)
	}
	tx := tbl.Begin(latest(t, tbl))
	tx.Add(live, oldRemoved, newRemoved)
	if _, err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	c.now = t0.Add(24 * time.Hour) // removed 9 days before the vacuum
	tx = tbl.Begin(latest(t, tbl))
	tx.Remove(oldRemoved.RemoveAt(c.now))
	if _, err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	c.now = t0.Add(9 * 24 * time.Hour) // removed 1 day before the vacuum
	tx = tbl.Begin(latest(t, tbl))
	tx.Remove(newRemoved.RemoveAt(c.now))
	if _, err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	c.now = t0.Add(10 * 24 * time.Hour)
	putData("p=x/orphan-old.parquet", t0)                    // a failed write's leftover
	putData("p=x/orphan-new.parquet", c.now.Add(-time.Hour)) // a write in progress
	putData("_SUCCESS", t0)
	putData("p=x/.part-1.parquet.crc", t0)

	before, _ := store.List(ctx, "", "")
	dry, err := tbl.Vacuum(ctx, lake.VacuumOptions{DryRun: true, Retain: 7 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"t/" + oldRemoved.DecodedPath(), "t/p=x/orphan-old.parquet"}
	sort.Strings(want)
	if got := keys(dry.Files); strings.Join(got, ",") != strings.Join(want, ",") || dry.DataFiles != 2 {
		t.Errorf("dry run lists %v, want %v", got, want)
	}
	if after, _ := store.List(ctx, "", ""); len(after) != len(before) {
		t.Errorf("dry run deleted %d objects", len(before)-len(after))
	}

	res, err := tbl.Vacuum(ctx, lake.VacuumOptions{Retain: 7 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(res.Files); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("vacuum deleted %v, want %v", got, want)
	}
	after, _ := store.List(ctx, "", "")
	if len(after) != len(before)-2 {
		t.Errorf("store has %d objects, want %d", len(after), len(before)-2)
	}
	for _, k := range want {
		if _, err := store.Stat(ctx, k); err == nil {
			t.Errorf("%s still there", k)
		}
	}
	for _, rel := range []string{live.DecodedPath(), newRemoved.DecodedPath(), "p=x/orphan-new.parquet", "_SUCCESS", "p=x/.part-1.parquet.crc"} {
		if _, err := store.Stat(ctx, "t/"+rel); err != nil {
			t.Errorf("%s was deleted: %v", rel, err)
		}
	}
	// Time travel within the retention still finds its files.
	s, err := tbl.At(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range s.Files() {
		if _, err := store.Stat(ctx, "t/"+a.DecodedPath()); err != nil {
			t.Errorf("v2 (within retention) lost %s", a.Path)
		}
	}
}

// The log is expired only before a checkpoint older than the retention, and never the
// checkpoint, its commit, later commits or _last_checkpoint.
func TestVacuumLog(t *testing.T) {
	tbl, store, c := hourlyTable(t, 12)
	ctx := t.Context()
	c.now = t0.Add(3 * 24 * time.Hour)
	// The checkpoint is younger than the retention: nothing in the log goes.
	res, err := tbl.Vacuum(ctx, lake.VacuumOptions{Retain: 7 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if res.LogFiles != 0 {
		t.Errorf("vacuum with a young checkpoint removed %d log files", res.LogFiles)
	}
	ageAll(t, store, t0)
	c.now = t0.Add(30 * 24 * time.Hour)
	res, err = tbl.Vacuum(ctx, lake.VacuumOptions{Retain: 7 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for v := 0; v < 10; v++ {
		want = append(want, "t/_delta_log/"+pad(v)+".json")
	}
	if got := keys(res.Files); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("vacuum removed %v, want %v", got, want)
	}
	for _, k := range []string{pad(10) + ".json", pad(10) + ".checkpoint.parquet", pad(11) + ".json", pad(12) + ".json", "_last_checkpoint"} {
		if _, err := store.Stat(ctx, "t/_delta_log/"+k); err != nil {
			t.Errorf("%s was removed: %v", k, err)
		}
	}
	if s := latest(t, tbl); s.Version != 12 || s.NumFiles() != 12 {
		t.Errorf("after vacuum: v%d with %d files, want v12 with 12", s.Version, s.NumFiles())
	}
}

func keys(objs []lake.ObjectInfo) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.Key)
	}
	sort.Strings(out)
	return out
}

func pad(v int) string { return fmt.Sprintf("%020d", v) }
