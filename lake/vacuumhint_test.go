package lake_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
)

// Two writers checkpointing at once can leave _last_checkpoint naming the older
// checkpoint (each reads the hint, then writes its own). Vacuum, expiring that older
// checkpoint, points the hint at the checkpoint it keeps, so the hint never names a
// checkpoint that is gone.
func TestVacuumRepointsStaleLastCheckpoint(t *testing.T) {
	ctx := t.Context()
	store := mem.New()
	tbl := lake.NewTable(store, "t")
	writeHistory(t, tbl)
	stale := []byte(`{"version":10,"size":5}`)
	if err := store.Put(ctx, "t/_delta_log/_last_checkpoint", bytes.NewReader(stale), int64(len(stale))); err != nil {
		t.Fatal(err)
	}
	if _, err := tbl.Vacuum(ctx, lake.VacuumOptions{Retain: time.Nanosecond, Now: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Stat(ctx, "t/_delta_log/00000000000000000010.checkpoint.parquet"); err == nil {
		t.Fatal("vacuum kept checkpoint v10: the test needs it expired")
	}
	wantLastCheckpoint(t, store, 20)
	hint, _ := lake.ReadAll(ctx, store, "t/_delta_log/_last_checkpoint")
	var lc struct{ Size int64 }
	if err := json.Unmarshal(hint, &lc); err != nil {
		t.Fatal(err)
	}
	// The size is the checkpoint's number of actions, as its writer recorded it.
	fresh := mem.New()
	writeHistory(t, lake.NewTable(fresh, "t"))
	want, _ := lake.ReadAll(ctx, fresh, "t/_delta_log/_last_checkpoint")
	var wantLC struct{ Size int64 }
	if err := json.Unmarshal(want, &wantLC); err != nil {
		t.Fatal(err)
	}
	if lc.Size != wantLC.Size {
		t.Errorf("_last_checkpoint size = %d, want %d (the checkpoint's actions)", lc.Size, wantLC.Size)
	}
}
