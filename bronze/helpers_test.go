package bronze

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/lakectl/lakectl/bronze/devkafka"
	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("BRONZE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func startBroker(t testing.TB, topics map[string]int32) *devkafka.Broker {
	t.Helper()
	b, err := devkafka.Start(devkafka.Config{Listen: "127.0.0.1:0", Topics: topics})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// produce sends n records with payloads "<prefix>-<i>" and waits for their acks.
func produce(t testing.TB, addr, topic, prefix string, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := range n {
		rec := &kgo.Record{
			Key:     fmt.Appendf(nil, "k%d", i%17),
			Value:   fmt.Appendf(nil, `{"%s":%d}`, prefix, i),
			Headers: []kgo.RecordHeader{{Key: "h", Value: []byte("v")}},
		}
		cl.Produce(t.Context(), rec, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Errorf("produce: %v", err)
			}
		})
	}
	if err := cl.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds; the deadline only stops a hung test.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ledgerTotal sums the ledger's next offsets over all partitions (offsets start at 0).
func ledgerTotal(t testing.TB, store lake.Store, stream string) int64 {
	snap, err := lake.NewTable(store, layout.TableRoot(stream)).Latest(t.Context())
	if errors.Is(err, lake.ErrNoTable) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, v := range ReadLedger(snap).Next {
		n += v
	}
	return n
}

// runService starts a service and returns a stop function that waits for it.
func runService(t testing.TB, cfg Config) (*Service, func() error) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	stopped := false
	var runErr error
	stop := func() error {
		if !stopped {
			stopped = true
			cancel()
			runErr = <-done
		}
		return runErr
	}
	t.Cleanup(func() { stop() })
	return s, stop
}

// allRows reads every row of snap, sorted by source and offset.
func allRows(t *testing.T, tbl *lake.Table, snap *lake.Snapshot) []Row {
	t.Helper()
	var rows []Row
	for _, a := range snap.Files() {
		r, err := ReadRows(t.Context(), tbl, a)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r...)
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Topic != b.Topic || a.Partition != b.Partition {
			return a.Topic < b.Topic || a.Topic == b.Topic && a.Partition < b.Partition
		}
		return a.Offset < b.Offset
	})
	return rows
}

// latestRows reads every row of the latest snapshot of stream's table (as allRows)
// and the ledger of that snapshot.
func latestRows(t *testing.T, store lake.Store, stream string) ([]Row, Ledger) {
	t.Helper()
	table := lake.NewTable(store, layout.TableRoot(stream))
	snap, err := table.Latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return allRows(t, table, snap), ReadLedger(snap)
}
