package main

import (
	"bytes"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lakectl/lakectl/gold"
	"github.com/lakectl/lakectl/pipeline"
	"github.com/lakectl/lakectl/pipeline/jobenv"
	"github.com/lakectl/lakectl/views"
)

// TestPlanOrDefaultsWarnsOnMeasuredLateness: a Silver hop measured at 55 minutes (a
// catch-up after an outage) makes the example's finance SLO of 26h unmeetable
// through Gold. lakectl plan says so; views refresh and serve warn and plan with the
// defaults, which meet it. An SLO that the defaults cannot meet stays an error.
func TestPlanOrDefaultsWarnsOnMeasuredLateness(t *testing.T) {
	ctx := t.Context()
	p, err := pipeline.Load(filepath.Join("..", "..", "testdata", "pipeline"), pipeline.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := jobenv.EngineConfig(p.DuckDB, nil)
	vs, err := views.Load(ctx, p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	models, err := gold.Load(ctx, p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	late := &views.Measurements{Silver: map[string]views.Hop{p.Silver[0].Name: {P95: 55 * time.Minute, Samples: 3, Measured: true}}}

	var inf *views.InfeasibleError
	if _, err := views.Build(p, vs, models, late); !errors.As(err, &inf) || inf.Consumer != "finance" {
		t.Fatalf("strict plan at the measured durations: %v, want finance's SLO refused", err)
	}
	var logs bytes.Buffer
	pl, err := planOrDefaults(p, vs, models, late, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatalf("plan or defaults: %v", err)
	}
	if len(pl.Consumers) != len(p.Consumers) {
		t.Errorf("plan of %d consumers, want %d", len(pl.Consumers), len(p.Consumers))
	}
	if w := logs.String(); !strings.Contains(w, "level=WARN") || !strings.Contains(w, "consumer finance") {
		t.Errorf("log %q: want a warning naming finance's SLO", w)
	}

	for i := range p.Consumers {
		if p.Consumers[i].Name == "finance" {
			p.Consumers[i].Freshness = time.Hour
		}
	}
	if _, err := planOrDefaults(p, vs, models, late, slog.New(slog.DiscardHandler)); !errors.As(err, &inf) {
		t.Errorf("an SLO of 1h on Gold: %v, want it refused", err)
	}
}
