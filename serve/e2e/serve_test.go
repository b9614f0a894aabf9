// Package e2e proves `lakectl serve` end to end through real processes: with the
// example pipeline and a generator sending events through `lakectl ingest` (its
// hidden --clock-offset puts them in past ingest hours, and a later ingest seals
// them), serve alone builds Silver, Gold and the views, with no `lakectl run`. It is
// killed with SIGKILL at random moments and restarted; in the end Bronze verifies,
// Silver holds every event once, Gold equals aggregates written by hand over Silver
// for every complete day, and each view equals its SQL over Silver. Then two serve
// replicas over a copy of the same Bronze give the same tables as the single one.
// Each view gets a fixed 5s refresh in its header: the example consumers' SLOs leave
// cadences of minutes to an hour.
package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lakectl/lakectl/bronze"
	"github.com/lakectl/lakectl/internal/e2e"
)

var lakectl e2e.Binary

func TestMain(m *testing.M) { os.Exit(e2e.Main(m, &lakectl)) }

// viewNames are the example pipeline's views; serve refreshes each at its cadence.
var viewNames = []string{"daily_summary", "hourly_trends", "realtime_kpis"}

func TestServeEndToEnd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pipeline")
	env := []string{"LAKECTL_PIPELINE=" + dir, "XDG_CACHE_HOME=" + t.TempDir()}
	lakectl.Run(t, env, "init", dir)
	lakectl.Run(t, env, "ref", "load", "users")
	// The consumers' SLOs leave the views cadences of minutes to an hour; a fixed
	// refresh in each view's header lets the test see them follow Silver in seconds.
	for _, v := range viewNames {
		file := filepath.Join(dir, "views", v+".sql")
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, append([]byte("-- refresh: 5s\n"), b...), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// A first batch five hours ago, sealed by an ingest three hours ago.
	const sent = 3000 + 1500
	unique := batch(t, env, "-5h", 1, 3000)
	seal(t, env, "-3h")

	rng := rand.New(rand.NewPCG(11, 3))
	srv := startServe(t, env, "serve")
	kills := 0
	killAtRandom := func() {
		t.Helper()
		// Within the first poll or two, while the tasks run on what is new.
		time.Sleep(time.Duration(50+rng.IntN(1500)) * time.Millisecond)
		if srv.Exited() {
			t.Fatalf("serve exited: %v\n%s", srv.Err(), e2e.Tail(srv.Stderr.String(), 3000))
		}
		srv.Kill()
		kills++
		srv = startServe(t, env, fmt.Sprintf("serve after kill %d", kills))
	}
	killAtRandom()
	// The generator runs while serve does: a second batch two hours ago, many of its
	// events late, then sealed by an ingest on the real clock.
	unique += batch(t, env, "-2h", 2, 1500)
	killAtRandom()
	seal(t, env, "0s")
	for range 4 {
		killAtRandom()
	}

	st := settle(t, env, dir, unique)
	srv.Term(t)
	t.Logf("after %d kills: %s", kills, st)
	var rep bronze.VerifyReport
	if err := json.Unmarshal([]byte(lakectl.Run(t, env, "verify", "bronze", "--stream", "events")), &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.Rows != sent {
		t.Errorf("verify bronze: ok %v, %d rows, problems %v; want ok and the %d events sent", rep.OK, rep.Rows, rep.Problems, sent)
	}

	// Two replicas at once over a copy of the same Bronze build the same tables.
	dir2 := filepath.Join(t.TempDir(), "pipeline")
	if out, err := exec.Command("cp", "-a", dir, dir2).CombinedOutput(); err != nil {
		t.Fatalf("copy the pipeline: %v\n%s", err, out)
	}
	for _, layer := range []string{"silver", "gold", "views"} {
		if err := os.RemoveAll(filepath.Join(dir2, "lake", layer)); err != nil {
			t.Fatal(err)
		}
	}
	env2 := []string{"LAKECTL_PIPELINE=" + dir2, "XDG_CACHE_HOME=" + t.TempDir()}
	a := startServe(t, env2, "replica a")
	b := startServe(t, env2, "replica b")
	st2 := settle(t, env2, dir2, unique)
	a.Term(t)
	b.Term(t)
	if st2 != st {
		t.Errorf("two replicas: %s\none replica: %s", st2, st)
	}
	for _, table := range append([]string{"silver.events", "gold.daily_metrics", "gold.user_daily"}, viewsOf(viewNames)...) {
		one, two := fingerprint(t, env, table), fingerprint(t, env2, table)
		if one != two {
			t.Errorf("%s: two replicas give %s, one gives %s", table, two, one)
		}
	}
}

func viewsOf(names []string) []string {
	var out []string
	for _, n := range names {
		out = append(out, "views."+n)
	}
	return out
}

func startServe(t *testing.T, env []string, name string) *e2e.Proc {
	t.Helper()
	addr := e2e.FreeAddr(t)
	p := lakectl.Start(t, name, env, "serve", "--http", addr, "--poll", "1s")
	e2e.WaitHTTP(t, "http://"+addr+"/healthz", p)
	return p
}

// batch has gen send count events with seed (30% late, 2% duplicates) to an ingest
// whose clock is shifted by offset, and returns the number of unique events.
func batch(t *testing.T, env []string, offset string, seed, count int) int64 {
	t.Helper()
	ing, addr := startIngest(t, env, offset)
	g := lakectl.Start(t, fmt.Sprintf("gen %d", seed), env, "gen", "--url", "http://"+addr+"/v1/streams/events/events",
		"--count", fmt.Sprint(count), "--seed", fmt.Sprint(seed), "--late", "0.3", "--duplicates", "0.02")
	s := e2e.GenSummary(t, g)
	if s.Sent != int64(count) || s.Failed != 0 {
		t.Fatalf("gen: %+v, want %d sent", s, count)
	}
	ing.Term(t)
	return s.UniqueEventIDs
}

// seal runs an ingest with its clock shifted by offset and stops it cleanly, which
// seals the ingest hours before it; a sealed hour never changes, so later batches
// go to later hours, and every clock stays behind the real one (run silver refuses
// hours in the future).
func seal(t *testing.T, env []string, offset string) {
	t.Helper()
	shift, err := time.ParseDuration(offset)
	if err != nil {
		t.Fatal(err)
	}
	ing, _ := startIngest(t, env, offset)
	ing.Term(t)
	at := time.Now().Add(shift - 10*time.Minute)
	deadline := time.Now().Add(time.Minute)
	for {
		st := bronzeStatus(t, env)
		if st.SealedThrough != nil && !st.SealedThrough.Before(at) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Bronze not sealed through %s: %+v", at, st)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func startIngest(t *testing.T, env []string, offset string) (*e2e.Proc, string) {
	t.Helper()
	addr := e2e.FreeAddr(t)
	p := lakectl.Start(t, "ingest "+offset, env, "ingest", "--brokers=", "--http", addr,
		"--clock-offset", offset, "--flush-interval", "300ms", "--log-level", "warn")
	e2e.WaitHTTP(t, "http://"+addr+"/healthz", p)
	return p, addr
}

type status struct {
	Bronze []bronze.StreamStatus
	Gold   []struct {
		Model           string
		CompleteThrough *string `json:"complete_through"`
		Stale           []struct {
			Day          string
			Completeness struct{ Complete bool }
		}
	}
}

func bronzeStatus(t *testing.T, env []string) bronze.StreamStatus {
	t.Helper()
	for _, s := range lakeStatus(t, env).Bronze {
		if s.Stream == "events" {
			return s
		}
	}
	return bronze.StreamStatus{}
}

func lakeStatus(t *testing.T, env []string) status {
	t.Helper()
	var st status
	if err := json.Unmarshal([]byte(lakectl.Run(t, env, "status", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// settle waits until serve has done all there is to do, and returns the figures of
// the final check, each a difference that must be zero or a count to compare:
// Silver holds every unique event once, no complete Gold day is stale, Gold equals
// the hand-written aggregates over Silver for every complete day (and has no other
// day), and each view equals its SQL over Silver.
func settle(t *testing.T, env []string, dir string, unique int64) string {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		st := lakeStatus(t, env)
		through, why := "", ""
		for _, m := range st.Gold {
			if m.CompleteThrough == nil {
				why = fmt.Sprintf("gold.%s has no complete day", m.Model)
				continue
			}
			through = *m.CompleteThrough
			for _, s := range m.Stale {
				if s.Completeness.Complete {
					why = fmt.Sprintf("gold.%s day %s is complete and stale", m.Model, s.Day)
				}
			}
		}
		if why == "" {
			r, err := tryQuery(t, env, checks(t, dir, through))
			got := fmt.Sprint(r)
			if err != nil {
				why = err.Error()
				r = map[string]any{}
			}
			zero := func(k string) bool { return fmt.Sprint(r[k]) == "0" }
			if err == nil && fmt.Sprint(r["rows"]) == fmt.Sprint(unique) && zero("dup") && zero("daily_diff") && zero("user_diff") && zero("views_diff") &&
				!zero("silver_days") && fmt.Sprint(r["gold_days"]) == fmt.Sprint(r["silver_days"]) {
				return got
			}
			want := fmt.Sprintf("%d rows, no differences, gold_days = silver_days > 0", unique)
			if err == nil {
				why = fmt.Sprintf("complete through %s: %s, want %s", through, got, want)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not build everything: %s", why)
		}
		time.Sleep(time.Second)
	}
}

// checks is one query that compares Silver, Gold (through the last complete day)
// and the views with what they must hold.
func checks(t *testing.T, dir, through string) string {
	t.Helper()
	var views []string
	for _, v := range viewNames {
		b, err := os.ReadFile(filepath.Join(dir, "views", v+".sql"))
		if err != nil {
			t.Fatal(err)
		}
		q := string(b)
		views = append(views, fmt.Sprintf(
			"(SELECT count(*) FROM ((%s\n) EXCEPT ALL SELECT * FROM views.%s)) + (SELECT count(*) FROM (SELECT * FROM views.%s EXCEPT ALL (%s\n)))",
			q, v, v, q))
	}
	return fmt.Sprintf(`WITH s AS (SELECT * FROM silver.events WHERE event_date <= DATE '%s'),
%s
SELECT
  (SELECT count(*) FROM silver.events) AS rows,
  (SELECT count(*) - count(DISTINCT event_id) FROM silver.events) AS dup,
  (SELECT count(*) FROM (SELECT * FROM dm EXCEPT ALL SELECT * FROM gold.daily_metrics)) +
  (SELECT count(*) FROM (SELECT * FROM gold.daily_metrics EXCEPT ALL SELECT * FROM dm)) AS daily_diff,
  (SELECT count(*) FROM (SELECT * FROM ud EXCEPT ALL SELECT * FROM gold.user_daily)) +
  (SELECT count(*) FROM (SELECT * FROM gold.user_daily EXCEPT ALL SELECT * FROM ud)) AS user_diff,
  (SELECT count(DISTINCT event_date) FROM s) AS silver_days,
  (SELECT count(DISTINCT event_date) FROM gold.daily_metrics) AS gold_days,
  %s AS views_diff`, through, e2e.GoldByHand("s"), strings.Join(views, " +\n  "))
}

// fingerprint is a table's row count and a digest of its rows in order.
func fingerprint(t *testing.T, env []string, table string) string {
	t.Helper()
	r := lakectl.Query(t, env, fmt.Sprintf(
		"SELECT count(*) AS n, md5(coalesce(string_agg(CAST(t AS VARCHAR), '|' ORDER BY CAST(t AS VARCHAR)), '')) AS h FROM %s t", table))
	return fmt.Sprint(r[0])
}

// tryQuery runs one query that may fail while serve has not created the tables yet.
func tryQuery(t *testing.T, env []string, sql string) (map[string]any, error) {
	t.Helper()
	p := lakectl.Start(t, "query", env, "query", "--format", "json", sql)
	p.Wait(t)
	if p.Err() != nil {
		return nil, fmt.Errorf("query: %v: %s", p.Err(), e2e.Tail(p.Stderr.String(), 300))
	}
	var row map[string]any
	dec := json.NewDecoder(strings.NewReader(p.Stdout.String()))
	dec.UseNumber()
	if err := dec.Decode(&row); err != nil {
		t.Fatalf("query output %q: %v", e2e.Tail(p.Stdout.String(), 300), err)
	}
	return row, nil
}
