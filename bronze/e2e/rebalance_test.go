package e2e

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lakectl/lakectl/internal/e2e"
)

// TestReplicasRebalance: three ingest replicas in one group join, leave cleanly,
// and crash while gen sends; partitions move between them several times, and Bronze
// still ends up with every record exactly once.
func TestReplicasRebalance(t *testing.T) {
	const stream = "clicks"
	lk := localLake(t)
	broker := devKafka(t, stream, 6)
	g := start(t, "gen", nil, "gen", "--brokers", broker, "--topic", stream, "--count", "20000",
		"--rate", "4000", "--seed", "5", "--duplicates", "0.01")
	args := []string{"ingest", "--lake", lk.url, "--brokers", broker, "--topic", stream,
		"--flush-interval", "200ms", "--session-timeout", "2s", "--log-level", "info"}
	step := func() { time.Sleep(700 * time.Millisecond) }

	a := start(t, "replica a", nil, args...)
	step()
	b := start(t, "replica b", nil, args...)
	step()
	c := start(t, "replica c", nil, args...)
	step()
	a.Term(t) // leaves the group: its partitions move at once
	step()
	b.Cmd.Process.Signal(syscall.SIGKILL) // crashes: its partitions move after the session timeout
	step()
	d := start(t, "replica d", nil, args...)

	sum := e2e.GenSummary(t, g)
	if sum.Failed != 0 {
		t.Fatalf("gen: %d events not acknowledged", sum.Failed)
	}
	store := openLake(t, lk)
	waitLedger(t, store, stream, sum.Sent, c, d)
	c.Term(t)
	d.Term(t)

	owners := 0
	for _, p := range []*e2e.Proc{a, b, c, d} {
		if strings.Contains(p.Stderr.String(), `"msg":"assigned"`) {
			owners++
		}
	}
	if owners < 3 {
		t.Errorf("only %d replicas were ever assigned partitions; want rebalances across at least 3", owners)
	}
	rep := verify(t, nil, "--lake", lk.url, "--stream", stream, "--brokers", broker)
	if rep.Rows != sum.Sent {
		t.Errorf("Bronze rows: got %d, want %d as gen sent", rep.Rows, sum.Sent)
	}
}
