package lake_test

import (
	"testing"
	"time"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/deltatest"
	"github.com/lakectl/lakectl/lake/mem"
)

// A retention longer than the week of tombstones a checkpoint keeps still protects the
// files that time travel within it needs: a file removed 20 days ago is kept by a
// 30-day vacuum although the latest checkpoint no longer lists its tombstone.
func TestVacuumLongRetentionKeepsFilesOfTombstonesACheckpointDropped(t *testing.T) {
	ctx := t.Context()
	day := 24 * time.Hour
	c := &clock{now: t0.Add(-40 * day)}
	store := mem.New()
	tbl := lake.NewTable(store, "t", lake.WithClock(c.Now))
	if err := deltatest.Create(ctx, tbl); err != nil {
		t.Fatal(err)
	}
	f := deltatest.FileAdd("w", 1, "x")
	if err := store.PutIfAbsent(ctx, "t/"+f.DecodedPath(), []byte("parquet")); err != nil {
		t.Fatal(err)
	}
	store.SetModTime("t/"+f.DecodedPath(), c.now)
	tx := tbl.Begin(latest(t, tbl))
	tx.Add(f)
	if _, err := tx.Commit(ctx); err != nil { // v1
		t.Fatal(err)
	}
	c.now = t0.Add(-20 * day)
	s1 := latest(t, tbl)
	tx = tbl.Begin(s1)
	tx.Remove(f.RemoveAt(c.now))
	if _, err := tx.Commit(ctx); err != nil { // v2
		t.Fatal(err)
	}
	c.now = t0
	for i := 3; i <= 10; i++ { // v10 writes a checkpoint now, 20 days after the remove
		if _, err := deltatest.Append(ctx, tbl, "a", i); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.Stat(ctx, "t/_delta_log/"+pad(10)+".checkpoint.parquet"); err != nil {
		t.Fatalf("no checkpoint at v10: %v", err)
	}
	res, err := tbl.Vacuum(ctx, lake.VacuumOptions{Retain: 30 * day, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Files {
		if o.Key == "t/"+f.DecodedPath() {
			t.Errorf("a 30-day vacuum deletes %s, removed 20 days ago and still in v1", o.Key)
		}
	}
}
