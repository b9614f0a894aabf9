package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/views"
)

// TestViewsRefreshKilled: a refresh killed with SIGKILL after writing its files
// leaves the view at its previous version; a rerun finishes, and one with no input
// change writes nothing.
func TestViewsRefreshKilled(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	mustLakectl(t, "init", dir)
	for _, f := range []string{"realtime_kpis.sql", "hourly_trends.sql", "daily_summary.sql"} {
		if _, err := os.Stat(filepath.Join(dir, "views", f)); err != nil {
			t.Fatalf("init did not write views/%s: %v", f, err)
		}
	}
	if res := runLakectl(t, "views", "refresh", "realtime_kpis", "-p", dir); res.exitCode != 1 ||
		!strings.Contains(res.stderr, "input silver.events of view realtime_kpis has no data yet") || !strings.Contains(res.stderr, "hint: run lakectl run silver first") {
		t.Errorf("refresh before Silver: %+v, want the missing input and a hint", res)
	}
	view := "-- description: Users per country.\nSELECT country, count(*) AS users FROM ref.users GROUP BY ALL\n"
	if err := os.WriteFile(filepath.Join(dir, "views", "countries.sql"), []byte(view), 0o644); err != nil {
		t.Fatal(err)
	}
	mustLakectl(t, "ref", "load", "users", "-p", dir)
	if out := mustLakectl(t, "views", "refresh", "countries", "-p", dir); !strings.Contains(out, "countries: full refresh") || !strings.Contains(out, "views v0: first refresh") {
		t.Fatalf("first refresh: %q", out)
	}
	mustLakectl(t, "ref", "load", "users", "-p", dir) // a new version of ref.users
	for _, point := range []string{views.HookBuilt, views.HookFilesWritten} {
		res := runLakectlEnv(t, []string{"LAKECTL_TEST_KILL_AT=" + point}, "views", "refresh", "countries", "-p", dir)
		if res.exitCode != -1 {
			t.Fatalf("refresh with LAKECTL_TEST_KILL_AT=%s: exit %d, want killed\n%s", point, res.exitCode, res.stderr)
		}
		var hist []map[string]any
		if err := json.Unmarshal([]byte(mustLakectl(t, "table", "history", "--json", filepath.Join(dir, "lake", "views", "countries"))), &hist); err != nil {
			t.Fatal(err)
		}
		if len(hist) != 1 {
			t.Errorf("killed at %s: the view has %d versions, want its previous one alone", point, len(hist))
		}
	}
	if out := mustLakectl(t, "views", "refresh", "countries", "-p", dir); !strings.Contains(out, "full refresh") || !strings.Contains(out, "views v1: input commits ref/users v1") {
		t.Errorf("rerun after the kills: %q, want a full refresh committed as v1", out)
	}
	if out := mustLakectl(t, "views", "refresh", "countries", "-p", dir); !strings.Contains(out, "countries: up to date at v1") {
		t.Errorf("refresh with no input change: %q, want up to date at v1", out)
	}
	status := mustLakectl(t, "status", "-p", dir)
	for _, want := range []string{"countries", "v1", "input commits ref/users v1", "realtime_kpis", "never refreshed", "ops-dashboard", "views.realtime_kpis", "unknown"} {
		if !strings.Contains(status, want) {
			t.Errorf("status lacks %q:\n%s", want, status)
		}
	}
	var st struct {
		Views     []views.ViewStatus
		Consumers []views.ConsumerStatus
	}
	if err := json.Unmarshal([]byte(mustLakectl(t, "status", "--json", "-p", dir)), &st); err != nil {
		t.Fatal(err)
	}
	byName := map[string]views.ViewStatus{}
	for _, v := range st.Views {
		byName[v.Name] = v
	}
	if c := byName["countries"]; c.Version != 1 || len(c.Refreshes) != 2 || c.Refreshes[1].Inputs["ref/users"] != 1 || !c.Refreshes[1].Through.IsZero() {
		t.Errorf("status --json: countries %+v; want v1 after two refreshes, the second of ref/users v1, no event time (reference tables only)", c)
	}
	if len(st.Consumers) == 0 || st.Consumers[0].Name != "ops-dashboard" || st.Consumers[0].Level != views.LevelUnknown {
		t.Errorf("status --json: consumers %+v; want ops-dashboard first, unknown", st.Consumers)
	}
	res := runLakectl(t, "query", "-p", dir, "--format", "csv", "SELECT sum(users) AS n FROM views.countries")
	if res.exitCode != 0 || res.stdout != "n\n10000\n" {
		t.Errorf("query views.countries: %+v", res)
	}
}

// TestPlanRefusesImpossibleSLO: plan prints the example's plan; a consumer asking 10s
// of a Gold-fed view is refused by plan and by views refresh, with the file and line
// of the SLO, the best achievable and a hint.
func TestPlanRefusesImpossibleSLO(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	mustLakectl(t, "init", dir)
	if out := mustLakectl(t, "plan", "-p", dir); !strings.Contains(out, "realtime_kpis: the live tail, refresh every 1m45s, guarantees 2m0s") {
		t.Errorf("plan of the example:\n%s", out)
	}
	view := "-- description: Daily metrics on the wall.\nSELECT * FROM gold.daily_metrics\n"
	if err := os.WriteFile(filepath.Join(dir, "views", "wall.sql"), []byte(view), 0o644); err != nil {
		t.Fatal(err)
	}
	yaml := filepath.Join(dir, "lakectl.yaml")
	before, err := os.ReadFile(yaml)
	if err != nil {
		t.Fatal(err)
	}
	// The consumers map ends the example file: the new consumer's freshness is on the
	// third line after it.
	sloLine := bytes.Count(before, []byte("\n")) + 3
	if err := os.WriteFile(yaml, append(before, "  wall:\n    reads: [views.wall]\n    freshness: 10s\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"plan"}, {"views", "refresh", "realtime_kpis"}} {
		res := runLakectl(t, append(args, "-p", dir)...)
		want := fmt.Sprintf("lakectl.yaml:%d: consumer wall: freshness 10s on views.wall cannot be met: the best achievable is 25h12m20s, through Gold; no path can", sloLine)
		if res.exitCode != 1 || !strings.Contains(res.stderr, want) || !strings.Contains(res.stderr, "hint: relax the SLO to 25h12m20s or more") {
			t.Errorf("lakectl %v: exit %d, stderr:\n%s\nwant exit 1 with %q and a hint", args, res.exitCode, res.stderr, want)
		}
	}
}
