package bronze

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
)

// flakyStore fails some writes and reads the way a struggling object store does,
// including the worst case: a conditional write that lands but reports an error.
type flakyStore struct {
	lake.Store
	mu                   sync.Mutex
	puts, commits, reads int
	failures             int
}

// errFlaky is marked transient, as the store's backends mark a reset connection.
var errFlaky = lake.Transient(errors.New("flaky store: connection reset"))

func (s *flakyStore) tick(counter *int, every int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	*counter++
	if *counter%every == 0 {
		s.failures++
		return true
	}
	return false
}

func (s *flakyStore) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if s.tick(&s.puts, 4) {
		return errFlaky
	}
	return s.Store.Put(ctx, key, r, size)
}

func (s *flakyStore) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	s.mu.Lock()
	s.commits++
	n := s.commits
	s.mu.Unlock()
	switch n % 6 {
	case 2: // lost before it reached the store
		s.mu.Lock()
		s.failures++
		s.mu.Unlock()
		return errFlaky
	case 5: // landed, but the answer was lost
		if err := s.Store.PutIfAbsent(ctx, key, data); err != nil {
			return err
		}
		s.mu.Lock()
		s.failures++
		s.mu.Unlock()
		return errFlaky
	}
	return s.Store.PutIfAbsent(ctx, key, data)
}

func (s *flakyStore) List(ctx context.Context, prefix, startAfter string) ([]lake.ObjectInfo, error) {
	if s.tick(&s.reads, 9) {
		return nil, errFlaky
	}
	return s.Store.List(ctx, prefix, startAfter)
}

func TestStoreOutagesNeitherLoseNorDuplicate(t *testing.T) {
	b := startBroker(t, map[string]int32{"events": 2})
	store := &flakyStore{Store: mem.New()}
	_, stop := runService(t, Config{
		Store: store, Brokers: []string{b.Addr()}, Topics: map[string]string{"events": "events"},
		FlushInterval: 50 * time.Millisecond,
	})
	for round := range 5 {
		produce(t, b.Addr(), "events", "r", 400)
		want := int64(400 * (round + 1))
		waitFor(t, "the ledger to catch up", func() bool { return ledgerTotal(t, store.Store, "events") == want })
	}
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if store.failures < 5 {
		t.Fatalf("only %d injected failures: the test exercised nothing", store.failures)
	}
	rep, err := Verify(t.Context(), VerifyConfig{Store: store.Store, Stream: "events", Brokers: []string{b.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.KafkaRows != 2000 {
		t.Fatalf("after %d injected failures: ok=%v rows=%d problems=%v", store.failures, rep.OK, rep.KafkaRows, rep.Problems)
	}
}
