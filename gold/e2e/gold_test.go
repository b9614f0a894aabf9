// Package e2e proves the Gold layer end to end through real processes: `lakectl
// init`, `ref load`, `dev kafka`, `ingest`, `gen`, `run silver --pending`, then `run
// gold --stale` (with late data arriving, run twice, run concurrently, killed with
// SIGKILL at named points and at random times), checked with `lakectl query` against
// aggregates written by hand over Silver, to the cent, for every day. TestGoldOnMinIO
// runs the flow (ingest over HTTP) with the lake on MinIO.
//
// As in silver/e2e, ingest runs with its hidden --clock-offset so the events land in
// ingest hours in the past, and an ingest run with the real clock seals them. gen's
// late events (up to three days) make past days, which are complete; today's day is
// not, and is built with --force.
package e2e

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/lakectl/lakectl/bronze"
	"github.com/lakectl/lakectl/gold"
	"github.com/lakectl/lakectl/internal/e2e"
)

var lakectl e2e.Binary

func TestMain(m *testing.M) { os.Exit(e2e.Main(m, &lakectl)) }

const partitions = 2

// handDiff counts the rows where Gold and an aggregate written by hand over Silver
// differ, both ways, for both models.
var handDiff = "WITH " + e2e.GoldByHand("silver.events") + `
SELECT
  (SELECT count(*) FROM (SELECT * FROM dm EXCEPT ALL SELECT * FROM gold.daily_metrics)) +
  (SELECT count(*) FROM (SELECT * FROM gold.daily_metrics EXCEPT ALL SELECT * FROM dm)) AS daily_diff,
  (SELECT count(*) FROM (SELECT * FROM ud EXCEPT ALL SELECT * FROM gold.user_daily)) +
  (SELECT count(*) FROM (SELECT * FROM gold.user_daily EXCEPT ALL SELECT * FROM ud)) AS user_diff,
  (SELECT count(DISTINCT event_date) FROM silver.events) AS silver_days,
  (SELECT count(DISTINCT event_date) FROM gold.daily_metrics) AS gold_days,
  (SELECT sum(total_amount) FROM gold.daily_metrics) = (SELECT sum(amount) FROM silver.events) AS cents_equal`

func TestGold(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pipeline")
	lakectl.Run(t, nil, "init", dir)
	env := []string{"LAKECTL_PIPELINE=" + dir}
	lakectl.Run(t, env, "ref", "load", "users")
	broker := lakectl.DevKafka(t, "events", partitions)

	ingestBatch(t, env, broker, "-7h", "-5h", 1, 6000)
	lakectl.Run(t, env, "run", "silver", "--pending")
	// Complete days first; today is not complete and is only reported.
	sums, stderr := runGold(t, env, "--stale")
	if len(sums) == 0 || !strings.Contains(stderr, "not complete") {
		t.Fatalf("first --stale built %d days; stderr %q; want past days built and today reported incomplete", len(sums), stderr)
	}
	runGold(t, env, "--stale", "--force")
	checkAgainstSilver(t, env, "after the first build")
	if out := lakectl.Run(t, env, "run", "gold", "--stale"); !strings.Contains(out, "no stale days") {
		t.Errorf("second --stale: %q, want no stale days", out)
	}

	// Late data: a second batch of events, many of them late.
	before := silverDays(t, env, "")
	ingestBatch(t, env, broker, "-4h", "-2h", 2, 1500)
	t.Logf("run silver: %s", lakectl.Run(t, env, "run", "silver", "--pending"))
	touched := silverDays(t, env, before.maxIngested)
	t.Logf("days of the late batch (after %s): %v", before.maxIngested, keys(touched.days))
	status := lakectl.Run(t, env, "status")
	if !strings.Contains(status, "silver/events v") {
		t.Errorf("status does not say why days are stale:\n%s", status)
	}
	sums, _ = runGold(t, env, "--stale", "--force")
	rebuilt := map[string]bool{}
	for _, s := range sums {
		if s.Model == "daily_metrics" {
			rebuilt[s.Day.String()] = true
			if len(s.Why) == 0 {
				t.Errorf("%s %s rebuilt without a reason", s.Model, s.Day)
			}
		}
	}
	if !mapsEqual(rebuilt, touched.days) {
		t.Errorf("--stale rebuilt days %v, want exactly the days the late batch touched %v", keys(rebuilt), keys(touched.days))
	}
	checkAgainstSilver(t, env, "after late data")

	// A third batch: two concurrent runs of one stale day leave one commit, then runs
	// killed at every point and at random moments end as an uninterrupted run.
	ingestBatch(t, env, broker, "-90m", "0s", 3, 1500)
	lakectl.Run(t, env, "run", "silver", "--pending")
	day := silverDays(t, env, touched.maxIngested).newest
	v0 := goldVersion(t, dir)
	a := lakectl.Start(t, "gold a", env, "run", "gold", "daily_metrics", "--day", day, "--force", "--json")
	b := lakectl.Start(t, "gold b", env, "run", "gold", "daily_metrics", "--day", day, "--force", "--json")
	a.Wait(t)
	b.Wait(t)
	if a.Err() != nil || b.Err() != nil {
		t.Fatalf("concurrent runs: %v, %v", a.Err(), b.Err())
	}
	if v := goldVersion(t, dir); v != v0+1 {
		t.Errorf("two concurrent runs of %s: gold v%d → v%d, want one commit", day, v0, v)
	}
	killed := func(p *e2e.Proc) bool { return p.Err() != nil && strings.Contains(p.Err().Error(), "killed") }
	for _, point := range []string{gold.HookAudited, gold.HookFilesWritten, gold.HookCommitted} {
		p := lakectl.Start(t, "gold killed at "+point, append(env, "LAKECTL_TEST_KILL_AT="+point), "run", "gold", "--stale", "--force")
		p.Wait(t)
		if !killed(p) {
			t.Fatalf("run with LAKECTL_TEST_KILL_AT=%s: %v, want killed\n%s", point, p.Err(), e2e.Tail(p.Stderr.String(), 2000))
		}
	}
	rng := rand.New(rand.NewPCG(9, 1))
	for i := range 3 {
		p := lakectl.Start(t, fmt.Sprintf("gold #%d", i), env, "run", "gold", "--stale", "--force")
		select {
		case <-time.After(time.Duration(100+rng.IntN(800)) * time.Millisecond):
			p.Kill()
		case <-p.Done():
		}
		t.Logf("random kill #%d: killed %v", i, killed(p))
	}
	runGold(t, env, "--stale", "--force")
	checkAgainstSilver(t, env, "after kills")
	if out := lakectl.Run(t, env, "run", "gold", "--stale", "--force"); !strings.Contains(out, "no stale days") {
		t.Errorf("--stale after the kills and a final run: %q, want no stale days", out)
	}
	testCatalog(t, env)
}

// testCatalog exports the catalog and reads Gold from it with plain DuckDB.
func testCatalog(t *testing.T, env []string) {
	file := filepath.Join(t.TempDir(), "lake.duckdb")
	lakectl.Run(t, env, "catalog", "export", file)
	db, err := sql.Open("duckdb", file+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got string
	if err := db.QueryRow("SELECT CAST(sum(total_amount) AS VARCHAR) || '/' || CAST(sum(events) AS VARCHAR) FROM gold.daily_metrics").Scan(&got); err != nil {
		t.Fatal(err)
	}
	r := lakectl.Query(t, env, "SELECT CAST(sum(amount) AS VARCHAR) || '/' || CAST(count(*) AS VARCHAR) AS s FROM silver.events")
	if want := r[0]["s"]; got != want {
		t.Errorf("gold.daily_metrics through the exported catalog: %s, want Silver's %v", got, want)
	}
}

// ingestBatch sends count events with seed through an ingest run whose clock is
// shifted by offset, then seals them with an ingest run whose clock is shifted by
// seal. A sealed hour never changes, so a later batch goes to a later hour, and
// every clock stays behind the real one: run silver refuses hours in the future.
func ingestBatch(t *testing.T, env []string, broker, offset, seal string, seed, count int) {
	t.Helper()
	ing := startIngest(t, env, broker, offset)
	g := lakectl.Start(t, fmt.Sprintf("gen %d", seed), nil, "gen", "--brokers", broker, "--topic", "events",
		"--count", fmt.Sprint(count), "--seed", fmt.Sprint(seed), "--late", "0.3", "--duplicates", "0.02")
	if sum := e2e.GenSummary(t, g); sum.Sent != int64(count) {
		t.Fatalf("gen sent %d of %d", sum.Sent, count)
	}
	waitRows(t, env, ing)
	ing.Term(t)
	sealShift, err := time.ParseDuration(seal)
	if err != nil {
		t.Fatal(err)
	}
	ing = startIngest(t, env, broker, seal)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		st := bronzeStatus(t, env)
		if st.SealedThrough != nil && st.SealedThrough.After(time.Now().Add(sealShift-15*time.Minute)) && len(st.Partitions) >= partitions {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hours never sealed: %+v", st)
		}
		time.Sleep(2 * time.Second)
		ing.Term(t)
		ing = startIngest(t, env, broker, seal)
	}
	ing.Term(t)
}

// waitRows waits until Bronze stops growing: the ingest run flushed what gen sent.
func waitRows(t *testing.T, env []string, ing *e2e.Proc) {
	t.Helper()
	last, stable := int64(-1), 0
	for stable < 3 {
		if ing.Exited() {
			t.Fatalf("ingest exited: %v\n%s", ing.Err(), e2e.Tail(ing.Stderr.String(), 2000))
		}
		n := bronzeStatus(t, env).Rows
		if n == last {
			stable++
		} else {
			stable = 0
		}
		last = n
		time.Sleep(700 * time.Millisecond)
	}
}

func startIngest(t *testing.T, env []string, broker, offset string) *e2e.Proc {
	t.Helper()
	addr := e2e.FreeAddr(t)
	p := lakectl.Start(t, "ingest "+offset, env, "ingest", "--brokers", broker, "--http", addr,
		"--clock-offset", offset, "--flush-interval", "300ms", "--session-timeout", "6s", "--log-level", "warn")
	e2e.WaitHTTP(t, "http://"+addr+"/healthz", p)
	return p
}

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

// runGold runs `lakectl run gold ARGS --json` and returns its summaries and stderr.
func runGold(t *testing.T, env []string, args ...string) ([]gold.Summary, string) {
	t.Helper()
	p := lakectl.Start(t, "run gold", env, append([]string{"run", "gold", "--json"}, args...)...)
	p.Wait(t)
	if p.Err() != nil {
		t.Fatalf("run gold %v: %v\n%s", args, p.Err(), e2e.Tail(p.Stderr.String(), 2000))
	}
	var sums []gold.Summary
	dec := json.NewDecoder(strings.NewReader(p.Stdout.String()))
	for dec.More() {
		var s gold.Summary
		if err := dec.Decode(&s); err != nil {
			t.Fatalf("run gold output: %v", err)
		}
		sums = append(sums, s)
	}
	return sums, p.Stderr.String()
}

func checkAgainstSilver(t *testing.T, env []string, when string) {
	t.Helper()
	rows := lakectl.Query(t, env, handDiff)
	r := rows[0]
	if fmt.Sprint(r["daily_diff"]) != "0" || fmt.Sprint(r["user_diff"]) != "0" || r["silver_days"] != r["gold_days"] || r["cents_equal"] != true {
		t.Errorf("%s: Gold against the hand-written aggregates over Silver: %v; want no differing rows, every day, equal cents", when, r)
	}
}

// days are the event days of Silver rows ingested after a time.
type days struct {
	days        map[string]bool
	newest      string
	maxIngested string
}

func silverDays(t *testing.T, env []string, after string) days {
	t.Helper()
	where := ""
	if after != "" {
		where = " WHERE _ingested_at > TIMESTAMPTZ '" + after + "'"
	}
	out := days{days: map[string]bool{}}
	for _, r := range lakectl.Query(t, env, "SELECT strftime(event_date, '%Y-%m-%d') AS d FROM silver.events"+where+" GROUP BY ALL ORDER BY d") {
		d := r["d"].(string)
		out.days[d] = true
		out.newest = d
	}
	m := lakectl.Query(t, env, "SELECT strftime(max(_ingested_at) AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S.%f+00') AS m FROM silver.events")
	out.maxIngested, _ = m[0]["m"].(string)
	return out
}

func goldVersion(t *testing.T, dir string) int {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "lake", "gold", "daily_metrics", "_delta_log", "*.json"))
	return len(files) - 1
}

func mapsEqual(a, b map[string]bool) bool { return slices.Equal(keys(a), keys(b)) }

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
