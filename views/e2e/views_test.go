// Package e2e proves the views end to end through real processes: `lakectl init`,
// `ref load`, `ingest` over HTTP, `gen`, `run silver --pending`, then `views refresh`
// with events still in the open ingest hour, checked with `lakectl query` against a
// computation by hand over Bronze's payloads, and `lakectl status`.
package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lakectl/lakectl/bronze"
	"github.com/lakectl/lakectl/internal/e2e"
	"github.com/lakectl/lakectl/views"
)

var lakectl e2e.Binary

func TestMain(m *testing.M) { os.Exit(e2e.Main(m, &lakectl)) }

// handKPIs is realtime_kpis computed by hand from Bronze's payloads, without the
// Silver contract: valid JSON with a user, an event type and a string timestamp, an
// amount that is a number or absent, the first of each event id.
const handKPIs = `WITH p AS (
  SELECT decode(payload) AS s FROM bronze.events),
j AS (SELECT CAST(s AS JSON) AS j FROM p WHERE json_valid(s)),
valid AS (
  SELECT j->>'event_id' AS event_id, j->>'user_id' AS user_id, j->>'event_type' AS event_type,
    CAST(j->>'amount' AS DECIMAL(18, 2)) AS amount, CAST(j->>'timestamp' AS TIMESTAMPTZ) AS ts
  FROM j
  WHERE j->>'user_id' IS NOT NULL AND json_type(j, '$.timestamp') = 'VARCHAR'
    AND coalesce(json_type(j, '$.amount'), 'NULL') IN ('UBIGINT', 'BIGINT', 'DOUBLE', 'NULL')),
events AS (SELECT DISTINCT ON (event_id) * FROM valid),
recent AS (SELECT * FROM events WHERE ts > (SELECT max(ts) FROM events) - INTERVAL 1 HOUR)
SELECT count(*) AS events, count(DISTINCT user_id) AS active_users,
  CAST(coalesce(sum(amount) FILTER (WHERE event_type = 'purchase'), 0) AS DECIMAL(18, 2)) AS revenue,
  max(ts) AS newest_event_at
FROM recent`

// TestLiveTailEndToEnd: events ingested now, in an ingest hour Silver has not
// processed, are in realtime_kpis after one refresh (the plan puts it on the live
// tail for the ops-dashboard's 2m), with the figures of the computation by hand over
// the same events (malformed ones quarantined, duplicates counted once), and status
// reports the consumer within its SLO.
func TestLiveTailEndToEnd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pipeline")
	env := []string{"LAKECTL_PIPELINE=" + dir, "XDG_CACHE_HOME=" + t.TempDir()}
	lakectl.Run(t, env, "init", dir)
	lakectl.Run(t, env, "ref", "load", "users")

	// A first batch three hours ago, sealed by an ingest on the real clock, then
	// processed by Silver.
	old, addr := startHTTPIngest(t, env, "-3h")
	send(t, env, addr, 1, 2000, "0")
	old.Term(t)
	seal, _ := startHTTPIngest(t, env, "0s") // its clean stop moves the sealing mark to now
	seal.Term(t)
	waitSealed(t, env, time.Now().Add(-10*time.Minute))
	lakectl.Run(t, env, "run", "silver", "--pending")
	ing, addr := startHTTPIngest(t, env, "0s")
	defer ing.Term(t)
	silverRows := count(t, env, "SELECT count(*) AS n FROM silver.events")

	// A second batch now, into the open hour: duplicates and malformed payloads too.
	send(t, env, addr, 2, 1000, "0.05")
	sent := time.Now()
	out := lakectl.Run(t, env, "views", "refresh", "realtime_kpis", "--json")
	var sum views.Summary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("views refresh --json: %q: %v", out, err)
	}
	if sum.TailFiles == 0 || sum.Mode != views.ModeFull {
		t.Fatalf("refresh %+v; want a full refresh over the live tail's Bronze files", sum)
	}
	if n := count(t, env, "SELECT count(*) AS n FROM silver.events"); n != silverRows {
		t.Fatalf("Silver went from %s to %s rows: the second batch must stay in the open hour", silverRows, n)
	}
	got := lakectl.Query(t, env, "SELECT events, active_users, revenue, newest_event_at FROM views.realtime_kpis")
	want := lakectl.Query(t, env, handKPIs)
	t.Logf("realtime_kpis %v, by hand %v", got, want)
	if len(got) != 1 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("realtime_kpis over the live tail = %v, by hand over Bronze %v", got, want)
	}
	status := lakectl.Run(t, env, "status")
	line := ""
	for _, l := range strings.Split(status, "\n") {
		if strings.HasPrefix(l, "ops-dashboard") {
			line = l
		}
	}
	if !strings.HasSuffix(strings.TrimSpace(line), "ok") {
		t.Errorf("status, %s after the batch was acknowledged: %q; want ops-dashboard ok within 2m\n%s", time.Since(sent).Round(time.Millisecond), line, status)
	}
	// The refresh reflects the events through the newest event it holds, by event
	// time, bounded by Bronze's sealing mark.
	var st struct{ Views []views.ViewStatus }
	if err := json.Unmarshal([]byte(lakectl.Run(t, env, "status", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	rows := lakectl.Query(t, env, "SELECT epoch_us(newest_event_at) AS us FROM views.realtime_kpis")
	us, err := rows[0]["us"].(json.Number).Int64()
	i := slices.IndexFunc(st.Views, func(v views.ViewStatus) bool { return v.Name == "realtime_kpis" })
	if err != nil || i < 0 || len(st.Views[i].Refreshes) != 1 {
		t.Fatalf("newest event %v (%v), status --json views %+v; want realtime_kpis refreshed once", rows, err, st.Views)
	}
	r, newest := st.Views[i].Refreshes[0], time.UnixMicro(us).UTC()
	through := r.Ingested
	if newest.Before(through) {
		through = newest
	}
	if r.Ingested.IsZero() || !r.Through.Equal(through) {
		t.Errorf("realtime_kpis reflects the events through %v, ingested through %v; want the earlier of that and its newest event, %v", r.Through, r.Ingested, newest)
	}
}

func startHTTPIngest(t testing.TB, env []string, offset string) (*e2e.Proc, string) {
	t.Helper()
	return startIngestFlush(t, env, offset, 300*time.Millisecond)
}

// startIngestFlush starts ingest over HTTP with its clock shifted by offset and the
// given flush interval.
func startIngestFlush(t testing.TB, env []string, offset string, flush time.Duration) (*e2e.Proc, string) {
	t.Helper()
	addr := e2e.FreeAddr(t)
	p := lakectl.Start(t, "ingest "+offset, env, "ingest", "--brokers=", "--http", addr,
		"--clock-offset", offset, "--flush-interval", flush.String(), "--log-level", "warn")
	e2e.WaitHTTP(t, "http://"+addr+"/healthz", p)
	return p, addr
}

// send has gen send count events with seed to the ingest at addr, with the given
// fraction of duplicates and of malformed payloads each.
func send(t testing.TB, env []string, addr string, seed, count int, bad string) {
	t.Helper()
	g := lakectl.Start(t, fmt.Sprintf("gen %d", seed), env, "gen", "--url", "http://"+addr+"/v1/streams/events/events",
		"--count", fmt.Sprint(count), "--seed", fmt.Sprint(seed), "--duplicates", bad, "--malformed", bad)
	if s := e2e.GenSummary(t, g); s.Sent != int64(count) || s.Failed != 0 {
		t.Fatalf("gen: %+v, want %d sent", s, count)
	}
}

// waitSealed waits until Bronze is sealed through at least at.
func waitSealed(t *testing.T, env []string, at time.Time) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var status struct{ Bronze []bronze.StreamStatus }
		if err := json.Unmarshal([]byte(lakectl.Run(t, env, "status", "--json")), &status); err != nil {
			t.Fatal(err)
		}
		out := status.Bronze
		if len(out) == 1 && out[0].SealedThrough != nil && !out[0].SealedThrough.Before(at) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Bronze not sealed through %s: %+v", at, out)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func count(t *testing.T, env []string, sql string) string {
	t.Helper()
	rows := lakectl.Query(t, env, sql)
	if len(rows) != 1 {
		t.Fatalf("%s: %v", sql, rows)
	}
	return fmt.Sprint(rows[0]["n"])
}
