package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/gold"
	"github.com/lakectl/lakectl/views"
)

// TestStatusReportsInvalidFiles: with one model file that does not parse and one
// view file whose header is wrong, status still prints every other model and view
// (the bad view with its refreshes), names each bad file with its line and why, in
// text and in --json, and exits 1 after printing everything; run gold and views
// refresh still refuse them.
func TestStatusReportsInvalidFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	mustLakectl(t, "init", dir)
	write := func(file, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, file), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("views/countries.sql", "-- description: Users per country.\nSELECT country, count(*) AS users FROM ref.users GROUP BY ALL\n")
	mustLakectl(t, "ref", "load", "users", "-p", dir)
	mustLakectl(t, "views", "refresh", "countries", "-p", dir)
	write("views/countries.sql", "-- description: Users per country.\n-- refresh: soon\nSELECT country, count(*) AS users FROM ref.users GROUP BY ALL\n")
	write("models/broken.sql", "-- partition: event_date\nSELECT event_date\nFORM silver.events\n")
	badModel := filepath.Join(dir, "models", "broken.sql") + `:3: syntax error`
	badView := filepath.Join(dir, "views", "countries.sql") + `:2: refresh: "soon" is not an interval`

	res := runLakectl(t, "status", "-p", dir)
	if res.exitCode != 1 || !strings.Contains(res.stderr, "refused model or view files: ") ||
		!strings.Contains(res.stderr, badModel) || !strings.Contains(res.stderr, badView) {
		t.Errorf("status: exit %d, stderr %q; want 1 and both files with their lines", res.exitCode, res.stderr)
	}
	lines := strings.Split(res.stdout, "\n")
	for _, want := range [][]string{
		{"BRONZE", "VERSION"},
		{"SILVER", "REFERENCE"},
		{"daily_metrics", "up to date"},
		{"user_daily", "up to date"},
		{"broken", "invalid: " + badModel},
		{"countries", "v0", "full", "first refresh"},
		{"countries", "invalid: " + badView},
		{"realtime_kpis", "never refreshed"},
		{"ops-dashboard", "views.realtime_kpis", "unknown"},
	} {
		if !hasLine(lines, want) {
			t.Errorf("status has no line with %q:\n%s", want, res.stdout)
		}
	}

	res = runLakectl(t, "status", "--json", "-p", dir)
	var st struct {
		Gold []struct {
			Model string
			Error *gold.ModelError
		}
		Views []struct {
			Name      string
			Version   int64
			Refreshes []views.RefreshRecord
			Error     *gold.ModelError
		}
		Consumers []views.ConsumerStatus
	}
	if err := json.Unmarshal([]byte(res.stdout), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, res.stdout)
	}
	if res.exitCode != 1 || !strings.Contains(res.stderr, badModel) || !strings.Contains(res.stderr, badView) {
		t.Errorf("status --json: exit %d, stderr %q; want 1 and both files", res.exitCode, res.stderr)
	}
	models := map[string]*gold.ModelError{}
	for _, m := range st.Gold {
		models[m.Model] = m.Error
	}
	if e, ok := models["broken"]; len(models) != 3 || !ok || e == nil || e.File != filepath.Join(dir, "models", "broken.sql") ||
		e.Line != 3 || !strings.HasPrefix(e.Msg, "syntax error") || models["daily_metrics"] != nil || models["user_daily"] != nil {
		t.Errorf("status --json: gold %+v; want daily_metrics and user_daily without error, broken with its file, line 3 and the syntax error", st.Gold)
	}
	vs := map[string]int{}
	for i, v := range st.Views {
		vs[v.Name] = i
	}
	if i, ok := vs["countries"]; len(vs) != 4 || !ok || st.Views[i].Error == nil || st.Views[i].Error.File != filepath.Join(dir, "views", "countries.sql") ||
		st.Views[i].Error.Line != 2 || !strings.HasPrefix(st.Views[i].Error.Msg, `refresh: "soon"`) || st.Views[i].Version != 0 || len(st.Views[i].Refreshes) != 1 ||
		st.Views[vs["realtime_kpis"]].Error != nil {
		t.Errorf("status --json: views %+v; want countries with its file, line 2, why, and its refresh at v0, the seed's three without error", st.Views)
	}
	if len(st.Consumers) != 3 {
		t.Errorf("status --json: consumers %+v, want the seed's three", st.Consumers)
	}

	if res := runLakectl(t, "run", "gold", "--stale", "-p", dir); res.exitCode != 1 || !strings.Contains(res.stderr, badModel) {
		t.Errorf("run gold: %+v, want it to refuse %s", res, badModel)
	}
	if res := runLakectl(t, "views", "refresh", "countries", "-p", dir); res.exitCode != 1 || !strings.Contains(res.stderr, badView) {
		t.Errorf("views refresh: %+v, want it to refuse %s", res, badView)
	}
}

// hasLine says whether one of lines holds every one of fields.
func hasLine(lines, fields []string) bool {
	for _, l := range lines {
		all := true
		for _, f := range fields {
			all = all && strings.Contains(l, f)
		}
		if all {
			return true
		}
	}
	return false
}
