package e2e

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lakectl/lakectl/internal/e2e"
	"github.com/lakectl/lakectl/silver"
)

// TestSilver is issue 4's "done when", through processes. One Bronze fixture (the
// slow part: ingest and gen) is built once; each case works on its own copy.
func TestSilver(t *testing.T) {
	start := time.Now()
	f := newBronzeFixture(t)
	t.Logf("fixture: %d events sent, %d unique valid ids, %d malformed (%s)", f.sent, f.uniqueIDs, f.malformed, time.Since(start).Round(time.Millisecond))

	// The reference: one uninterrupted `run silver --pending`.
	refDir, refEnv := f.clone(t)
	sums := runSilver(t, refEnv, "--pending")
	ref := openLake(t, refDir).silverStates(t)
	refQuarantine := openLake(t, refDir).quarantineState(t)

	t.Run("pending gives the generator's unique valid events", func(t *testing.T) {
		testPending(t, f, refEnv, sums)
	})
	t.Run("running an hour again changes nothing", func(t *testing.T) {
		testRerun(t, refDir, refEnv, sums)
	})
	t.Run("concurrent runs equal one run", func(t *testing.T) {
		testConcurrent(t, f, ref, refQuarantine, sums)
	})
	t.Run("killed runs finish like an uninterrupted one", func(t *testing.T) {
		testKilled(t, f, ref, refQuarantine)
	})
	t.Run("every file passes the footer check", func(t *testing.T) {
		lakectl.Run(t, refEnv, "compact", "bronze", "--sealed")
		checkFooters(t, openLake(t, refDir).store)
	})
}

func testPending(t *testing.T, f bronzeFixture, env []string, sums []silver.Summary) {
	if len(sums) < len(phases) {
		t.Fatalf("--pending processed %d hours, want at least %d (one per ingest phase)", len(sums), len(phases))
	}
	var in, quarantined, late int64
	for i, s := range sums {
		if s.Skipped || s.Version < 0 {
			t.Errorf("hour %s: skipped %v, version %d: want processed", s.Hour, s.Skipped, s.Version)
		}
		if i > 0 && !sums[i-1].Hour.Time().Before(s.Hour.Time()) {
			t.Errorf("hours out of order: %s then %s", sums[i-1].Hour, s.Hour)
		}
		in, quarantined, late = in+s.RowsIn, quarantined+s.Quarantined, late+s.Late
	}
	if in != f.sent {
		t.Errorf("rows in: got %d, want %d as gen sent", in, f.sent)
	}
	if late == 0 {
		t.Error("no late rows reported, yet gen sent late events")
	}
	if quarantined != f.malformed {
		t.Errorf("quarantined by the runs: got %d, want %d malformed", quarantined, f.malformed)
	}

	row := one(t, env, "SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM silver.events")
	if n, ids := num(t, row, "n"), num(t, row, "ids"); n != f.uniqueIDs || ids != f.uniqueIDs {
		t.Errorf("silver.events: count(*) %d, count(DISTINCT event_id) %d, want both %d (gen's unique valid events)", n, ids, f.uniqueIDs)
	}
	row = one(t, env, `SELECT count(*) AS n, count(DISTINCT ("partition", "offset")) AS positions,
		count(*) FILTER (reason IS NULL OR reason = '') AS no_reason,
		count(*) FILTER (payload IS NULL) AS no_payload FROM quarantine.events`)
	if n := num(t, row, "n"); n != f.malformed {
		t.Errorf("quarantine.events: %d rows, want %d (the malformed events gen sent)", n, f.malformed)
	}
	if p := num(t, row, "positions"); p != f.malformed {
		t.Errorf("quarantine.events: %d distinct source offsets, want %d", p, f.malformed)
	}
	if nr, np := num(t, row, "no_reason"), num(t, row, "no_payload"); nr != 0 || np != 0 {
		t.Errorf("quarantine.events: %d rows without a reason, %d without the raw payload", nr, np)
	}
	row = one(t, env, "SELECT count(*) FILTER (country IS NULL OR plan IS NULL) AS bare FROM silver.events")
	if bare := num(t, row, "bare"); bare != 0 {
		t.Errorf("%d Silver rows not enriched with country and plan", bare)
	}
	for _, r := range lakectl.Query(t, env, "SELECT reason, count(*) AS n FROM quarantine.events GROUP BY ALL ORDER BY n DESC") {
		t.Logf("quarantine reason %v: %v", r["reason"], r["n"])
	}
	// Late events sit in their own, older event-hour partitions.
	row = one(t, env, "SELECT count(DISTINCT (event_date, event_hour)) AS parts FROM silver.events")
	if parts := num(t, row, "parts"); parts <= int64(len(sums)) {
		t.Errorf("silver.events spans %d event-hour partitions; late events should add older ones beyond the %d ingest hours", parts, len(sums))
	}
}

func testRerun(t *testing.T, dir string, env []string, sums []silver.Summary) {
	lr := openLake(t, dir)
	before := lr.silverStates(t)
	beforeQ := lr.quarantineState(t)
	filesBefore := dataFiles(t, dir, silver.Root("events"))
	for _, s := range sums {
		again := runSilver(t, env, "--hour", s.Hour.String())
		if len(again) != 1 || !again[0].Skipped {
			t.Errorf("run of done hour %s: %+v, want skipped", s.Hour, again)
		}
	}
	if out := lakectl.Run(t, env, "run", "silver", "--pending"); !strings.Contains(out, "no pending hours") {
		t.Errorf("--pending after all hours: %q, want no pending hours", out)
	}
	// Two processes for the same (done) hour at once.
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			p := lakectl.Start(t, fmt.Sprintf("rerun #%d", i), env, "run", "silver", "--hour", sums[0].Hour.String())
			p.Wait(t)
			if p.Err() != nil {
				t.Errorf("concurrent rerun #%d: %v", i, p.Err())
			}
		})
	}
	wg.Wait()
	after := openLake(t, dir).silverStates(t)
	if !slices.EqualFunc(before, after, func(a, b tableState) bool { return a.same(b) && slices.Equal(a.Files, b.Files) }) {
		t.Errorf("Silver changed: before %v, after %v", before, after)
	}
	if q := openLake(t, dir).quarantineState(t); !q.same(beforeQ) || !slices.Equal(q.Files, beforeQ.Files) {
		t.Errorf("quarantine changed: before %v, after %v", beforeQ, q)
	}
	if files := dataFiles(t, dir, silver.Root("events")); !slices.Equal(files, filesBefore) {
		t.Errorf("data files on disk: %d before, %d after the reruns", len(filesBefore), len(files))
	}
}

// testConcurrent: two processes race on every hour (one --hour at a time, then
// --pending for the rest); the table's versions match the sequential run's one for
// one, so the loser of each race added nothing.
func testConcurrent(t *testing.T, f bronzeFixture, ref []tableState, refQ tableState, sums []silver.Summary) {
	dir, env := f.clone(t)
	race := func(args ...string) {
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Go(func() {
				p := lakectl.Start(t, fmt.Sprintf("racer #%d %v", i, args), env, append([]string{"run", "silver"}, args...)...)
				p.Wait(t)
				if p.Err() != nil {
					t.Errorf("racer #%d %v: %v\n%s", i, args, p.Err(), e2e.Tail(p.Stderr.String(), 2000))
				}
			})
		}
		wg.Wait()
	}
	race("--hour", sums[0].Hour.String())
	race("--pending")
	lr := openLake(t, dir)
	got := lr.silverStates(t)
	if !slices.EqualFunc(got, ref, tableState.same) {
		t.Errorf("Silver after racing runs:\n%v\nwant the sequential run's:\n%v", got, ref)
	}
	if q := lr.quarantineState(t); !q.same(refQ) {
		t.Errorf("quarantine after racing runs: %v, want %v", q, refQ)
	}
	live := map[string]bool{}
	for _, p := range got[len(got)-1].Files {
		live[p] = true
	}
	orphans := 0
	for _, p := range dataFiles(t, dir, silver.Root("events")) {
		if !live[p] {
			orphans++
		}
	}
	// A loser may have uploaded its files before its commit lost: they are never
	// referenced, so no reader sees them, and vacuum deletes them.
	t.Logf("unreferenced files left by the losers: %d", orphans)
}

// killPoints are where the job kills itself, in order; each run resumes where the
// last one died. Random kills from outside follow, then a run to the end.
var killPoints = []string{
	silver.HookParsed,              // first hour parsed, nothing written
	silver.HookQuarantineCommitted, // first hour's quarantine committed
	silver.HookFilesWritten,        // first hour's Silver files uploaded, not committed
	silver.HookCommitted,           // first hour committed
	silver.HookFilesWritten,        // second hour uploaded
}

func testKilled(t *testing.T, f bronzeFixture, ref []tableState, refQ tableState) {
	dir, env := f.clone(t)
	lr := openLake(t, dir)
	seen := map[int64]bool{}
	check := func(when string) {
		for _, st := range lr.silverStates(t) {
			if seen[st.Version] {
				continue
			}
			seen[st.Version] = true
			if st.Version >= int64(len(ref)) || !st.same(ref[st.Version]) {
				t.Errorf("%s: Silver %v is no version of the uninterrupted run", when, st)
			}
		}
	}
	killed := func(p *e2e.Proc) bool {
		err := p.Err()
		return err != nil && strings.Contains(err.Error(), "killed")
	}
	for _, point := range killPoints {
		p := lakectl.Start(t, "run silver killed at "+point, append(env, "LAKECTL_TEST_KILL_AT="+point), "run", "silver", "--pending")
		p.Wait(t)
		if !killed(p) {
			t.Fatalf("run with LAKECTL_TEST_KILL_AT=%s: exit %v, want killed\n%s", point, p.Err(), e2e.Tail(p.Stderr.String(), 2000))
		}
		check("after a kill at " + point)
	}
	// Then kill -9 from outside at random moments of fresh runs.
	rng := rand.New(rand.NewPCG(4, 2))
	for i := range 3 {
		p := lakectl.Start(t, fmt.Sprintf("run silver #%d", i), env, "run", "silver", "--pending")
		select {
		case <-time.After(time.Duration(200+rng.IntN(1000)) * time.Millisecond):
			p.Kill()
		case <-p.Done():
		}
		t.Logf("random kill #%d: killed %v", i, killed(p))
		check(fmt.Sprintf("after random kill #%d", i))
	}
	runSilver(t, env, "--pending")
	check("after the final run")
	got := lr.silverStates(t)
	if !slices.EqualFunc(got, ref, tableState.same) {
		t.Errorf("Silver after kills:\n%v\nwant the uninterrupted run's:\n%v", got, ref)
	}
	if q := lr.quarantineState(t); !q.same(refQ) {
		t.Errorf("quarantine after kills: %v, want %v", q, refQ)
	}
}
