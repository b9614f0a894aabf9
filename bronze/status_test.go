package bronze

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
)

// listCounter counts the keys that List returns.
type listCounter struct {
	lake.Store
	keys atomic.Int64
}

func (s *listCounter) List(ctx context.Context, prefix, startAfter string) ([]lake.ObjectInfo, error) {
	objs, err := s.Store.List(ctx, prefix, startAfter)
	s.keys.Add(int64(len(objs)))
	return objs, err
}

func TestStatusShowsPartitionsMarksAndLag(t *testing.T) {
	b := startBroker(t, map[string]int32{"clicks": 2})
	store := &listCounter{Store: mem.New()}
	produce(t, b.Addr(), "clicks", "a", 400)
	_, stop := runService(t, Config{
		Store: store, Brokers: []string{b.Addr()}, Topics: map[string]string{"clicks": "clicks"},
		FlushInterval: 50 * time.Millisecond, Compact: CompactConfig{Off: true},
	})
	waitFor(t, "the ledger to reach 400", func() bool { return ledgerTotal(t, store, "clicks") == 400 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	produce(t, b.Addr(), "clicks", "b", 100) // not ingested: lag

	store.keys.Store(0)
	streams, err := Streams(t.Context(), store)
	if err != nil {
		t.Fatal(err)
	}
	if len(streams) != 1 || streams[0] != "clicks" {
		t.Fatalf("Streams: got %v, want [clicks]", streams)
	}
	if n := store.keys.Load(); n != 1 {
		t.Errorf("Streams listed %d keys, want only the registry's 1", n)
	}

	st, err := Status(t.Context(), store, "clicks", StatusOptions{Brokers: []string{b.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Rows != 400 || len(st.Partitions) != 2 {
		t.Fatalf("status: rows %d partitions %+v, want 400 rows in 2 partitions", st.Rows, st.Partitions)
	}
	var next, lag int64
	for _, p := range st.Partitions {
		if p.Mark == nil || p.Lag == nil || p.End == nil {
			t.Fatalf("partition %s/%d: mark %v lag %v end %v, want all known", p.Topic, p.Partition, p.Mark, p.Lag, p.End)
		}
		if *p.End-p.Next != *p.Lag {
			t.Errorf("partition %d: end %d next %d lag %d", p.Partition, *p.End, p.Next, *p.Lag)
		}
		next += p.Next
		lag += *p.Lag
	}
	if next != 400 || lag != 100 {
		t.Errorf("next offsets sum to %d, lag to %d; want 400 and 100", next, lag)
	}
}

func TestStreamsFallsBackToScanningOldLakes(t *testing.T) {
	store := mem.New()
	if err := store.Put(t.Context(), "bronze/old/_delta_log/00000000000000000000.json", strings.NewReader("{}"), 2); err != nil {
		t.Fatal(err)
	}
	streams, err := Streams(t.Context(), store)
	if err != nil || len(streams) != 1 || streams[0] != "old" {
		t.Fatalf("Streams: got %v, %v; want [old]", streams, err)
	}
}
