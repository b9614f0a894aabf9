package lake_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
)

// vacuumedTo20 returns a table of 25 commits whose log vacuum cut at the checkpoint of
// v20: the table is readable only through that checkpoint.
func vacuumedTo20(t *testing.T) (*mem.Store, *lake.Table) {
	t.Helper()
	store := mem.New()
	tbl := lake.NewTable(store, "t")
	writeHistory(t, tbl)
	if _, err := tbl.Vacuum(t.Context(), lake.VacuumOptions{Retain: time.Nanosecond, Now: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Stat(t.Context(), "t/_delta_log/00000000000000000000.json"); err == nil {
		t.Fatal("vacuum left v0: the test needs a log that starts at a checkpoint")
	}
	return store, tbl
}

// A checkpoint that the store fails to deliver (a dropped connection, a timeout) fails
// the load with the store's error. Skipping it as if it were corrupt would report the
// latest version as expired, an answer callers take as final, for what a retry fixes.
func TestCheckpointReadErrorFailsLoad(t *testing.T) {
	store, _ := vacuumedTo20(t)
	reset := errors.New("connection reset by peer")
	tbl := lake.NewTable(&failingGet{Store: store, fail: "checkpoint.parquet", err: reset}, "t")
	_, err := tbl.Latest(t.Context())
	if !errors.Is(err, reset) || errors.Is(err, lake.ErrVersionExpired) {
		t.Errorf("latest with the checkpoint unreachable: %v, want the store's error", err)
	}
}

// A checkpoint that is there but does not decode is skipped: an older checkpoint or
// the JSON commits still give the snapshot, and without them the version is gone.
func TestCorruptCheckpointIsSkipped(t *testing.T) {
	store, tbl := vacuumedTo20(t)
	ctx := t.Context()
	latestV := latest(t, tbl).Version
	if err := store.Put(ctx, "t/_delta_log/00000000000000000020.checkpoint.parquet", bytes.NewReader([]byte("not parquet")), 11); err != nil {
		t.Fatal(err)
	}
	if _, err := tbl.Latest(ctx); !errors.Is(err, lake.ErrVersionExpired) {
		t.Errorf("latest with the only checkpoint corrupt and the commits before it vacuumed: %v, want ErrVersionExpired", err)
	}
	fresh := mem.New()
	full := lake.NewTable(fresh, "t")
	writeHistory(t, full)
	if err := fresh.Put(ctx, "t/_delta_log/00000000000000000020.checkpoint.parquet", bytes.NewReader([]byte("not parquet")), 11); err != nil {
		t.Fatal(err)
	}
	if s, err := full.Latest(ctx); err != nil || s.Version != latestV {
		t.Errorf("latest with checkpoint v20 corrupt: v%d, %v; want v%d from v10 and the commits", s.Version, err, latestV)
	}
}
