package lake_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/deltatest"
	"github.com/lakectl/lakectl/lake/mem"
)

// failCheckpoints refuses the first n checkpoint writes, as a store outage would.
type failCheckpoints struct {
	*mem.Store
	n int
}

func (s *failCheckpoints) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if strings.HasSuffix(key, ".checkpoint.parquet") && s.n > 0 {
		s.n--
		return errors.New("injected: checkpoint write failed")
	}
	return s.Store.Put(ctx, key, r, size)
}

// TestMissedCheckpointIsWrittenByTheNextCommit: a checkpoint that failed at v10 is
// written by the commit after it, not ten commits later, so readers do not replay a
// growing tail of JSON commits after one bad moment.
func TestMissedCheckpointIsWrittenByTheNextCommit(t *testing.T) {
	store := &failCheckpoints{Store: mem.New(), n: 1}
	tbl := lake.NewTable(store, "t")
	if err := deltatest.Create(t.Context(), tbl); err != nil {
		t.Fatal(err)
	}
	checkpoints := func() []string {
		objs, err := store.List(t.Context(), "t/_delta_log/", "")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, o := range objs {
			if strings.HasSuffix(o.Key, ".checkpoint.parquet") {
				out = append(out, o.Key)
			}
		}
		return out
	}
	for seq := 1; seq <= 10; seq++ {
		if _, err := deltatest.Append(t.Context(), tbl, "w", seq); err != nil {
			t.Fatal(err)
		}
	}
	if got := checkpoints(); len(got) != 0 {
		t.Fatalf("checkpoints after the failed one: %q, want none", got)
	}
	if _, err := deltatest.Append(t.Context(), tbl, "w", 11); err != nil {
		t.Fatal(err)
	}
	want := []string{"t/_delta_log/00000000000000000011.checkpoint.parquet"}
	if got := checkpoints(); len(got) != 1 || got[0] != want[0] {
		t.Errorf("checkpoints after v11: %q, want %q", got, want)
	}
	// And once caught up, the regular cadence again: none at v12.
	if _, err := deltatest.Append(t.Context(), tbl, "w", 12); err != nil {
		t.Fatal(err)
	}
	if got := checkpoints(); len(got) != 1 {
		t.Errorf("checkpoints after v12: %q, want only v11's", got)
	}
}
