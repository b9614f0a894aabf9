// Package e2e proves the Silver job end to end through real processes: `lakectl
// init`, `ref load`, `dev kafka`, `ingest`, `gen`, then `run silver --pending` (run
// twice, run concurrently, killed with SIGKILL at named points and at random times),
// checked with `lakectl query` and by reading every Silver version. TestSilverOnS3
// runs the same flow (ingest over HTTP) with the lake on MinIO and versitygw, and
// TestS3ConfigErrors the errors of a wrong secret, a missing bucket and a dead endpoint.
//
// Sealing needs time to pass. The test does not wait for it and does not --force:
// ingest runs with its hidden --clock-offset, so the events land in ingest hours
// hours ago, and a last ingest run with the real clock advances every partition's
// sealing mark past them. Silver then finds the hours sealed by the same code that
// production uses.
package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lakectl/lakectl/bronze"
	"github.com/lakectl/lakectl/internal/e2e"
	"github.com/lakectl/lakectl/silver"
)

var lakectl e2e.Binary

func TestMain(m *testing.M) { os.Exit(e2e.Main(m, &lakectl)) }

// phase is one ingest run with a shifted clock and the gen run it receives.
type phase struct {
	offset string // --clock-offset of the ingest run
	seed   uint64 // gen's seed; a seed used before resends the same events
	count  int
}

// phases: two fresh streams in two past hours, then the first stream resent an hour
// later, so Silver dedupes within an hour and against partitions written before.
var phases = []phase{
	{offset: "-4h", seed: 11, count: 12000},
	{offset: "-3h", seed: 12, count: 12000},
	{offset: "-2h", seed: 11, count: 12000},
}

const (
	duplicates = "0.03"
	late       = "0.02"
	malformed  = "0.01"
	partitions = 4
)

// bronzeFixture is a pipeline whose Bronze holds every phase, sealed, and whose
// Silver is still empty.
type bronzeFixture struct {
	dir       string // the pipeline directory (its lake is dir/lake)
	uniqueIDs int64  // distinct valid event ids over all phases
	malformed int64  // malformed events sent over all phases
	sent      int64
}

// newBronzeFixture runs init, ref load, dev kafka and the phases of ingest + gen,
// then one ingest run with the real clock that seals the past hours.
func newBronzeFixture(t *testing.T) bronzeFixture {
	dir := filepath.Join(t.TempDir(), "pipeline")
	lakectl.Run(t, nil, "init", dir)
	env := []string{"LAKECTL_PIPELINE=" + dir}
	lakectl.Run(t, env, "ref", "load", "users")
	broker := lakectl.DevKafka(t, "events", partitions)
	f := bronzeFixture{dir: dir}
	seen := map[uint64]bool{}
	for i, ph := range phases {
		ing := startIngest(t, env, broker, ph.offset)
		g := lakectl.Start(t, fmt.Sprintf("gen #%d", i), nil, "gen", "--brokers", broker, "--topic", "events",
			"--count", fmt.Sprint(ph.count), "--seed", fmt.Sprint(ph.seed),
			"--duplicates", duplicates, "--late", late, "--malformed", malformed)
		sum := e2e.GenSummary(t, g)
		if sum.Sent != int64(ph.count) || sum.Failed != 0 {
			t.Fatalf("gen #%d: sent %d, failed %d, want %d sent", i, sum.Sent, sum.Failed, ph.count)
		}
		if sum.Duplicates == 0 || sum.Late == 0 || sum.Malformed == 0 {
			t.Fatalf("gen #%d sent no duplicates, late or malformed events: %+v", i, sum)
		}
		f.sent += sum.Sent
		f.malformed += sum.Malformed
		if !seen[ph.seed] {
			// The same seed sends the same event ids; distinct seeds share none.
			f.uniqueIDs += sum.UniqueEventIDs
			seen[ph.seed] = true
		}
		waitBronzeRows(t, env, f.sent, ing)
		ing.Term(t)
	}
	// The real clock: every partition's mark moves past the shifted hours, once
	// the member owns its partitions and commits (at its hour flush or shutdown).
	ing := startIngest(t, env, broker, "0s")
	deadline := time.Now().Add(2 * time.Minute)
	for {
		st := bronzeStatus(t, env)
		if st.SealedThrough != nil && st.SealedThrough.After(time.Now().Add(-90*time.Minute)) && len(st.Partitions) >= partitions {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hours never sealed: %+v", st)
		}
		// Marks are written at each hour boundary, each seal point and at shutdown;
		// restart until the member held its partitions when it shut down.
		time.Sleep(2 * time.Second)
		ing.Term(t)
		ing = startIngest(t, env, broker, "0s")
	}
	ing.Term(t)
	return f
}

func startIngest(t *testing.T, env []string, broker, offset string) *e2e.Proc {
	t.Helper()
	addr := e2e.FreeAddr(t)
	p := lakectl.Start(t, "ingest "+offset, env, "ingest", "--brokers", broker, "--http", addr,
		"--clock-offset", offset, "--flush-interval", "300ms", "--session-timeout", "6s", "--log-level", "warn")
	e2e.WaitHTTP(t, "http://"+addr+"/healthz", p)
	return p
}

// bronzeStatus is `lakectl status --json` for the events stream.
func bronzeStatus(t *testing.T, env []string) bronze.StreamStatus {
	t.Helper()
	var out struct{ Bronze []bronze.StreamStatus }
	if err := json.Unmarshal([]byte(lakectl.Run(t, env, "status", "--json")), &out); err != nil {
		t.Fatal(err)
	}
	for _, s := range out.Bronze {
		if s.Stream == "events" {
			return s
		}
	}
	return bronze.StreamStatus{}
}

func waitBronzeRows(t *testing.T, env []string, want int64, ing *e2e.Proc) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got := bronzeStatus(t, env).Rows
		if got == want {
			return
		}
		if got > want {
			t.Fatalf("Bronze holds %d rows, more than the %d sent", got, want)
		}
		if ing.Exited() || time.Now().After(deadline) {
			t.Fatalf("Bronze reached %d of %d rows (ingest exited: %v)", got, want, ing.Exited())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// clone copies the fixture's pipeline directory (lake included) and returns the
// environment that points lakectl at the copy.
func (f bronzeFixture) clone(t *testing.T) (dir string, env []string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "pipeline")
	if err := os.CopyFS(dir, os.DirFS(f.dir)); err != nil {
		t.Fatalf("copy pipeline: %v", err)
	}
	return dir, []string{"LAKECTL_PIPELINE=" + dir}
}

// runSilver runs `lakectl run silver ARGS --json` and returns its summaries.
func runSilver(t *testing.T, env []string, args ...string) []silver.Summary {
	t.Helper()
	out := lakectl.Run(t, env, append([]string{"run", "silver", "--json"}, args...)...)
	return parseSummaries(t, out)
}

func parseSummaries(t *testing.T, out string) []silver.Summary {
	t.Helper()
	var sums []silver.Summary
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var s silver.Summary
		if err := dec.Decode(&s); err != nil {
			t.Fatalf("run silver output %q: %v", e2e.Tail(out, 500), err)
		}
		sums = append(sums, s)
	}
	return sums
}

// one returns the single row of a query's result.
func one(t *testing.T, env []string, sql string) map[string]any {
	t.Helper()
	rows := lakectl.Query(t, env, sql)
	if len(rows) != 1 {
		t.Fatalf("%s: %d rows, want 1", sql, len(rows))
	}
	return rows[0]
}

func num(t *testing.T, row map[string]any, col string) int64 {
	t.Helper()
	n, ok := row[col].(json.Number)
	if !ok {
		t.Fatalf("column %s = %#v, want a number (row %v)", col, row[col], row)
	}
	v, err := n.Int64()
	if err != nil {
		t.Fatalf("column %s: %v", col, err)
	}
	return v
}
