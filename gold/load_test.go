package gold

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/internal/lakefixture"
	"github.com/lakectl/lakectl/pipeline"
)

// examplePipeline writes the example pipeline into a temporary directory, with extra
// models written over its own (a nil body removes the model).
func examplePipeline(t testing.TB, models map[string]*string) *pipeline.Pipeline {
	return lakefixture.ExamplePipeline(t, ModelsDir, models)
}

func loadModels(t *testing.T, p *pipeline.Pipeline) (*Models, error) {
	t.Helper()
	return Load(context.Background(), p, engine.Config{Threads: 1, MemoryLimit: "1GiB"})
}

func TestExampleModelsLoad(t *testing.T) {
	p := examplePipeline(t, nil)
	ms, err := loadModels(t, p)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range ms.Order {
		names = append(names, m.Name)
		if got, want := m.Inputs, []engine.TableName{{Schema: "silver", Name: "events"}}; !slices.Equal(got, want) {
			t.Errorf("%s: inputs %v, want %v", m.Name, got, want)
		}
		if m.Partition != "event_date" || len(m.Audits) != 3 || m.Description == "" {
			t.Errorf("%s: partition %q, %d audits, description %q; want event_date, 3 audits and a description", m.Name, m.Partition, len(m.Audits), m.Description)
		}
	}
	if want := []string{"daily_metrics", "user_daily"}; !slices.Equal(names, want) {
		t.Errorf("models %v, want %v", names, want)
	}
	if a := ms.Model("daily_metrics").Audits[2]; a.Name != "reconciles_with_silver" || !strings.Contains(a.SQL, "WHERE gold_events <> silver_events") {
		t.Errorf("third audit %s: %q; want reconciles_with_silver with its continuation lines", a.Name, a.SQL)
	}
}

func ptr(s string) *string { return &s }

func TestBadModelsRefusedWithFileAndLine(t *testing.T) {
	tests := []struct {
		name   string
		models map[string]*string
		file   string
		line   int
		msg    string
	}{
		{"syntax error", map[string]*string{"m": ptr("-- partition: event_date\nSELECT event_date\nFORM silver.events\n")},
			"m.sql", 3, "syntax error"},
		{"unknown table", map[string]*string{"m": ptr("-- partition: event_date\nSELECT event_date\nFROM silver.events\nJOIN silver.clicks USING (event_id)\n")},
			"m.sql", 4, "unknown table silver.clicks"},
		{"table without layer", map[string]*string{"m": ptr("-- partition: event_date\n\nSELECT event_date FROM events\n")},
			"m.sql", 3, "name a table with its layer"},
		{"cycle", map[string]*string{
			"a": ptr("-- partition: event_date\nSELECT event_date FROM gold.b\n"),
			"b": ptr("-- partition: event_date\nSELECT event_date FROM gold.c\n"),
			"c": ptr("-- partition: event_date\nSELECT *\nFROM gold.a\n"),
		}, "c.sql", 3, "dependency cycle: gold.a → gold.b → gold.c → gold.a"},
		{"missing partition column", map[string]*string{"m": ptr("-- description: x\n-- partition: day\nSELECT event_date, count(*) AS n FROM silver.events GROUP BY ALL\n")},
			"m.sql", 2, "partition column day is not in the result"},
		{"partition column not a date", map[string]*string{"m": ptr("-- partition: event_hour\nSELECT event_hour FROM silver.events\n")},
			"m.sql", 1, "must be a DATE"},
		{"no partition header", map[string]*string{"m": ptr("SELECT event_date FROM silver.events\n")},
			"m.sql", 1, "no partition column"},
		{"COPY", map[string]*string{"m": ptr("-- partition: event_date\nCOPY (SELECT * FROM silver.events) TO '/tmp/x.parquet'\n")},
			"m.sql", 2, "refused"},
		{"read_csv of a local file", map[string]*string{"m": ptr("-- partition: event_date\nSELECT current_date AS event_date, *\nFROM read_csv('/etc/passwd')\n")},
			"m.sql", 3, "table function read_csv"},
		{"file as a table", map[string]*string{"m": ptr("-- partition: event_date\nSELECT * FROM '/etc/passwd'\n")},
			"m.sql", 2, "/etc/passwd"},
		{"no table", map[string]*string{"m": ptr("-- partition: event_date\nSELECT current_date AS event_date\n")},
			"m.sql", 2, "inputs cannot be determined"},
		{"two statements", map[string]*string{"m": ptr("-- partition: event_date\nSELECT event_date FROM silver.events; SELECT 1\n")},
			"m.sql", 2, "2 statements"},
		{"unknown header key", map[string]*string{"m": ptr("-- partition: event_date\n-- partitions: event_date\nSELECT event_date FROM silver.events\n")},
			"m.sql", 2, `unknown header key "partitions"`},
		{"window of a table not read", map[string]*string{"m": ptr("-- partition: event_date\n-- window: gold.daily_metrics 7d\nSELECT event_date FROM silver.events\n")},
			"m.sql", 2, "window of gold.daily_metrics, which the model does not read"},
		{"bad window", map[string]*string{"m": ptr("-- partition: event_date\n-- window: silver.events 7 days\nSELECT event_date FROM silver.events\n")},
			"m.sql", 2, "window"},
		{"audit reads another table", map[string]*string{"m": ptr("-- partition: event_date\n-- audit x: SELECT * FROM gold.user_daily\nSELECT event_date FROM silver.events\n")},
			"m.sql", 2, "audit x reads gold.user_daily"},
		{"audit names an unknown column", map[string]*string{"m": ptr("-- partition: event_date\n-- audit x: SELECT * FROM this WHERE total < 0\nSELECT event_date, count(*) AS n FROM silver.events GROUP BY ALL\n")},
			"m.sql", 2, `audit x: Binder Error: Referenced column "total" not found`},
		{"column without a Delta type", map[string]*string{"m": ptr("-- partition: event_date\n\nSELECT event_date, sum(count(*)) OVER () AS n FROM silver.events GROUP BY ALL\n")},
			"m.sql", 3, "column n: duckdb type HUGEINT has no Delta type"},
		{"audit reads a file", map[string]*string{"m": ptr("-- partition: event_date\n-- audit x: SELECT * FROM read_text('/etc/passwd')\nSELECT event_date FROM silver.events\n")},
			"m.sql", 2, "table function read_text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := examplePipeline(t, tt.models)
			_, err := loadModels(t, p)
			var me *ModelError
			if !errors.As(err, &me) {
				t.Fatalf("err = %v, want a *ModelError", err)
			}
			if filepath.Base(me.File) != tt.file || me.Line != tt.line || !strings.Contains(me.Msg, tt.msg) {
				t.Errorf("got %s:%d: %s\nwant %s:%d: …%s…", filepath.Base(me.File), me.Line, me.Msg, tt.file, tt.line, tt.msg)
			}
		})
	}
}

func TestJoinUsingInputsComeFromTheTree(t *testing.T) {
	p := examplePipeline(t, map[string]*string{"m": ptr(`-- partition: event_date
WITH per_user AS (SELECT user_id, count(*) AS n FROM silver.events GROUP BY ALL)
SELECT d.event_date, d.event_type, p.n
FROM gold.daily_metrics d JOIN silver.events USING (event_date) JOIN per_user p USING (user_id)
`)})
	ms, err := loadModels(t, p)
	if err != nil {
		t.Fatal(err)
	}
	m := ms.Model("m")
	want := []engine.TableName{{Schema: "gold", Name: "daily_metrics"}, {Schema: "silver", Name: "events"}}
	if !slices.Equal(m.Inputs, want) {
		t.Errorf("inputs %v, want %v", m.Inputs, want)
	}
	if i, j := slices.Index(ms.Order, ms.Model("daily_metrics")), slices.Index(ms.Order, m); i > j {
		t.Errorf("order puts m (%d) before its input daily_metrics (%d)", j, i)
	}
}

// TestLoadAllKeepsTheValidModels: LoadAll refuses each bad model with its file and
// line, a model that reads one and the model that closes a cycle, and keeps the
// valid models in order; Load still refuses the pipeline for the first problem.
func TestLoadAllKeepsTheValidModels(t *testing.T) {
	p := examplePipeline(t, map[string]*string{
		"bad":    ptr("-- partition: event_date\nSELECT event_date\nFORM silver.events\n"),
		"reader": ptr("-- partition: event_date\nSELECT event_date\nFROM gold.bad\n"),
		"a":      ptr("-- partition: event_date\nSELECT event_date FROM gold.b\n"),
		"b":      ptr("-- partition: event_date\nSELECT event_date\nFROM gold.a\n"),
	})
	ms, err := LoadAll(t.Context(), p, engine.Config{Threads: 1, MemoryLimit: "1GiB"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range ms.Order {
		names = append(names, m.Name)
	}
	if want := []string{"daily_metrics", "user_daily"}; !slices.Equal(names, want) {
		t.Errorf("valid models %v, want %v", names, want)
	}
	var got []string
	for _, e := range ms.Invalid {
		got = append(got, e.Error())
	}
	want := []string{
		"bad.sql:3: syntax error",
		"b.sql:3: dependency cycle: gold.a → gold.b → gold.a",
		"a.sql:2: reads gold.b, which is invalid",
		"reader.sql:3: reads gold.bad, which is invalid",
	}
	if len(got) != len(want) {
		t.Fatalf("invalid %q, want %d: %q", got, len(want), want)
	}
	for i := range want {
		if !strings.Contains(got[i], filepath.Join(ModelsDir, want[i])) {
			t.Errorf("invalid[%d] = %q, want …%s…", i, got[i], want[i])
		}
	}
	if _, err := loadModels(t, p); err == nil || err.Error() != got[0] {
		t.Errorf("Load: %v, want the first problem: %s", err, got[0])
	}
}
