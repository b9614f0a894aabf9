package cache

import (
	"bytes"
	"errors"
	"io/fs"
	"testing"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
)

// TestLogStoreReadsCommitsOnce: through LogStore a table's JSON commits come from the
// store once and from the cache after, also for a new process's cache over the same
// directory; _last_checkpoint, checkpoints and data files always come from the store;
// a commit that is not there is fs.ErrNotExist, as from the store.
func TestLogStoreReadsCommitsOnce(t *testing.T) {
	ctx := t.Context()
	store := &countingStore{Store: mem.New()}
	keys := []string{
		"silver/events/_delta_log/00000000000000000000.json",
		"silver/events/_delta_log/_last_checkpoint",
		"silver/events/_delta_log/00000000000000000010.checkpoint.parquet",
		"silver/events/part-0.parquet",
	}
	for _, k := range keys {
		put(t, store, k, 10)
	}
	dir := t.TempDir()
	for range 2 { // two processes over one directory
		logs := New(store, dir, 1<<20).LogStore()
		for range 2 {
			for _, k := range keys {
				got, err := lake.ReadAll(ctx, logs, k)
				if err != nil {
					t.Fatal(err)
				}
				want, _ := lake.ReadAll(ctx, store.Store, k)
				if !bytes.Equal(got, want) {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
		}
	}
	// 1 get of the commit, and 4 of each other key (2 processes × 2 reads).
	if n := store.gets.Load(); n != 1+3*4 {
		t.Errorf("store Gets = %d, want %d", n, 1+3*4)
	}
	_, err := New(store, dir, 1<<20).LogStore().Get(ctx, "silver/events/_delta_log/00000000000000000001.json")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing commit: %v, want fs.ErrNotExist", err)
	}
	// Closing the reader released its pin: the commit may be evicted again.
	c := New(store, dir, 1<<20)
	if _, err := lake.ReadAll(ctx, c.LogStore(), keys[0]); err != nil {
		t.Fatal(err)
	}
	if e := c.entries[fileName(keys[0])]; e == nil || e.Value.(*entry).pins != 0 {
		t.Error("the commit stays pinned after its reader was closed")
	}
}
