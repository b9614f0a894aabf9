package views

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/gold"
)

func TestSeedViewsLoad(t *testing.T) {
	p := examplePipeline(t, nil)
	vs, err := Load(t.Context(), p, testEngine)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"daily_summary": "event_date", "hourly_trends": "hour", "realtime_kpis": ""}
	var names []string
	for _, v := range vs.Order {
		names = append(names, v.Name)
		if v.Time != want[v.Name] {
			t.Errorf("%s: time %q, want %q", v.Name, v.Time, want[v.Name])
		}
		if got := v.Inputs; !slices.Equal(got, []engine.TableName{{Schema: "silver", Name: "events"}}) {
			t.Errorf("%s: inputs %v, want silver.events", v.Name, got)
		}
		if v.Description == "" || strings.Contains(v.Description, "--") {
			t.Errorf("%s: description %q; want the header's text, continuation lines joined", v.Name, v.Description)
		}
	}
	if !slices.Equal(names, []string{"daily_summary", "hourly_trends", "realtime_kpis"}) {
		t.Errorf("views %v, want the seed's three", names)
	}
}

func TestLoadRefusesWithFileAndLine(t *testing.T) {
	const ok = "-- description: d\n"
	for _, tc := range []struct {
		name, text string
		line       int
		want       string
	}{
		{"no description", "SELECT 1 FROM silver.events", 1, "no description"},
		{"unknown key", ok + "-- partition: hour\nSELECT 1 FROM silver.events", 2, `unknown header key "partition"`},
		{"twice", ok + "-- time: a\n-- time: b\nSELECT 1 FROM silver.events", 3, "time is set twice (first on line 2)"},
		{"bad refresh", ok + "-- refresh: soon\nSELECT 1 FROM silver.events", 2, `refresh: "soon"`},
		{"bad time", ok + "-- time: a b\nSELECT 1 FROM silver.events", 2, "not a column name"},
		{"unknown table", ok + "SELECT *\nFROM silver.clicks", 3, "unknown table silver.clicks"},
		{"no layer", ok + "SELECT * FROM events", 2, "name a table with its layer"},
		{"copy", ok + "COPY silver.events TO 'x.csv'", 2, "refused"},
		{"file function", ok + "SELECT * FROM read_csv('/etc/passwd')", 2, "read_csv"},
		{"two statements", ok + "SELECT 1 FROM silver.events; SELECT 2 FROM silver.events", 2, "2 statements"},
		{"syntax", ok + "SELEC 1", 2, "syntax error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := tc.text
			p := examplePipeline(t, map[string]*string{"bad": &text})
			_, err := Load(t.Context(), p, testEngine)
			var me *gold.ModelError
			if !errors.As(err, &me) {
				t.Fatalf("err = %v, want a *gold.ModelError", err)
			}
			if !strings.HasSuffix(me.File, "views/bad.sql") || me.Line != tc.line || !strings.Contains(me.Msg, tc.want) {
				t.Errorf("got %s:%d: %s; want views/bad.sql:%d: ...%s...", me.File, me.Line, me.Msg, tc.line, tc.want)
			}
		})
	}
}
