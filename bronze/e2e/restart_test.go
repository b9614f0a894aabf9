package e2e

import (
	"strings"
	"testing"

	"github.com/lakectl/lakectl/internal/e2e"
)

// groupTimeout is the session and rebalance timeout of the restart tests: longer
// than waitLedger's deadline, so that a restart that had to wait for the group to
// give up on the killed member fails the test, whatever the machine's speed.
const groupTimeout = "4m" // kfake allows sessions of up to 5 min

// TestCrashRestartResumesAtOnce: ingest, run without --instance-id, is killed with
// SIGKILL and started again with the same flags; the restart takes the killed
// member's partitions back and ingests what was sent meanwhile, long before the
// group could have expired the dead member.
func TestCrashRestartResumesAtOnce(t *testing.T) {
	const stream = "events"
	lk := localLake(t)
	broker := devKafka(t, stream, 4)
	args := []string{"ingest", "--lake", lk.url, "--brokers", broker, "--topic", stream, "--flush-interval", "200ms",
		"--session-timeout", groupTimeout, "--rebalance-timeout", groupTimeout, "--compact=false", "--log-level", "info"}
	store := openLake(t, lk)

	before := e2e.GenSummary(t, start(t, "gen (before)", nil, "gen", "--brokers", broker, "--topic", stream, "--count", "1000", "--seed", "1"))
	first := start(t, "ingest #1", nil, args...)
	waitLedger(t, store, stream, before.Sent, first)
	first.Kill()

	after := e2e.GenSummary(t, start(t, "gen (after)", nil, "gen", "--brokers", broker, "--topic", stream, "--count", "1000", "--seed", "2"))
	second := start(t, "ingest #2", nil, args...)
	waitLedger(t, store, stream, before.Sent+after.Sent, second)
	second.Term(t)
	if a, b := instanceID(t, first), instanceID(t, second); a != b {
		t.Errorf("instance ids: %q before the kill, %q after; want the same", a, b)
	}
}

// TestReplicasOnOneHostGetTheirOwnIDs: two ingest processes of one pipeline on one
// host, neither given --instance-id, take different default ids, so neither fences
// the other: both keep running and together ingest everything. When one stops
// cleanly it leaves the group, so the other takes its partitions over at once, not
// once the group has given up on a silent static member.
func TestReplicasOnOneHostGetTheirOwnIDs(t *testing.T) {
	const stream = "events"
	lk := localLake(t)
	broker := devKafka(t, stream, 4)
	args := []string{"ingest", "--lake", lk.url, "--brokers", broker, "--topic", stream, "--flush-interval", "200ms",
		"--session-timeout", groupTimeout, "--rebalance-timeout", groupTimeout, "--compact=false", "--log-level", "info"}
	store := openLake(t, lk)
	a := start(t, "ingest A", nil, args...)
	b := start(t, "ingest B", nil, args...)
	first := e2e.GenSummary(t, start(t, "gen (both)", nil, "gen", "--brokers", broker, "--topic", stream, "--count", "3000", "--seed", "3"))
	waitLedger(t, store, stream, first.Sent, a, b)
	if idA, idB := instanceID(t, a), instanceID(t, b); idA == idB {
		t.Errorf("both replicas took the instance id %q", idA)
	}

	a.Term(t)
	second := e2e.GenSummary(t, start(t, "gen (B alone)", nil, "gen", "--brokers", broker, "--topic", stream, "--count", "3000", "--seed", "4"))
	waitLedger(t, store, stream, first.Sent+second.Sent, b)
	b.Term(t)
}

// instanceID returns the static member id that ingest logged at start.
func instanceID(t *testing.T, p *e2e.Proc) string {
	t.Helper()
	const key = `"instance_id":"`
	for line := range strings.SplitSeq(p.Stderr.String(), "\n") {
		if _, rest, ok := strings.Cut(line, key); ok {
			id, _, _ := strings.Cut(rest, `"`)
			return id
		}
	}
	t.Fatalf("%s logged no instance id:\n%s", p.Name, e2e.Tail(p.Stderr.String(), 2000))
	return ""
}

// TestSharedInstanceIDStopsTheFencedMember: a second ingest given the instance id of
// a running one fences it; the fenced one stops with an error that says why, instead
// of retrying the broker's refusal forever, and the newcomer ingests on.
func TestSharedInstanceIDStopsTheFencedMember(t *testing.T) {
	const stream = "events"
	lk := localLake(t)
	broker := devKafka(t, stream, 2)
	args := []string{"ingest", "--lake", lk.url, "--brokers", broker, "--topic", stream, "--flush-interval", "200ms",
		"--instance-id", "same", "--compact=false", "--log-level", "warn"}
	store := openLake(t, lk)
	first := e2e.GenSummary(t, start(t, "gen (A)", nil, "gen", "--brokers", broker, "--topic", stream, "--count", "500", "--seed", "5"))
	a := start(t, "ingest A", nil, args...)
	waitLedger(t, store, stream, first.Sent, a)

	b := start(t, "ingest B", nil, args...)
	waitExit(t, a)
	if a.Err() == nil || !strings.Contains(a.Stderr.String(), "each replica needs its own") {
		t.Errorf("fenced ingest: exit %v, want an error naming the shared instance id; stderr:\n%s", a.Err(), e2e.Tail(a.Stderr.String(), 2000))
	}
	second := e2e.GenSummary(t, start(t, "gen (B)", nil, "gen", "--brokers", broker, "--topic", stream, "--count", "500", "--seed", "6"))
	waitLedger(t, store, stream, first.Sent+second.Sent, b)
	b.Term(t)
}
