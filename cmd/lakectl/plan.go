package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/lakectl/lakectl/gold"
	"github.com/lakectl/lakectl/pipeline"
	"github.com/lakectl/lakectl/pipeline/jobenv"
	"github.com/lakectl/lakectl/views"
)

func newPlanCmd() *cobra.Command {
	var pf pipelineFlags
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show each view's path, refresh cadence, guaranteed freshness and cost",
		Long: `Show, for every view and consumer of the pipeline, the path events take (the live
tail, Silver or Gold), the refresh cadence derived from the tightest consumer's
freshness need minus the upstream hops, the freshness that guarantees with its
arithmetic (ingest flush, seal grace, job cadence, and each hop's p95 duration,
measured from the commit history of the last 100 commits, defaults before there is
any), and the compute per day next to the next slower tier's.

A consumer whose freshness SLO no path can meet is an error that names the SLO, the
best freshness achievable and the path that would meet it; lakectl views refresh
and serve refuse it too. One that only the measured history makes unmeetable (the
defaults would meet it: a slow run, a catch-up after an outage) is an error here and
a warning for views refresh and serve, which plan with the defaults instead, so that
one late hour never stops the refreshes or the service that would catch up. A view that neither a consumer nor a fixed -- refresh asks for is
reported as unused.`,
		Example: `  lakectl plan
  lakectl plan -p ./my-pipeline`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			env, err := pf.open(ctx, true)
			if err != nil {
				return err
			}
			pl, err := env.plan(ctx, true)
			if err != nil {
				return err
			}
			pl.Write(cmd.OutOrStdout())
			return nil
		},
	}
	pf.register(cmd)
	return cmd
}

// plan loads the views and models, measures the hops from the lake's history and
// builds the plan. An SLO that no path can meet is an error; unless strict, one that
// only the measurements make unmeetable is logged, and the plan built from the
// defaults (planOrDefaults).
func (e *pipelineEnv) plan(ctx context.Context, strict bool) (*views.Plan, error) {
	cfg := jobenv.EngineConfig(e.p.DuckDB, e.log)
	vs, err := views.Load(ctx, e.p, cfg)
	if err != nil {
		return nil, err
	}
	models, err := gold.Load(ctx, e.p, cfg)
	if err != nil {
		return nil, err
	}
	m, err := views.Measure(ctx, e.store, e.p, vs, models)
	if err != nil {
		return nil, err
	}
	if strict {
		return views.Build(e.p, vs, models, m)
	}
	return planOrDefaults(e.p, vs, models, m, e.log)
}

// planOrDefaults is the plan from the measurements m, or, where they make an SLO
// unmeetable that the defaults would meet, the plan from the defaults, with a warning
// that says so. Measured hops include runs that were late for reasons that pass (a
// catch-up after an outage, a restart), and a service must not refuse to start, nor a
// scheduled refresh to run, over them; lakectl plan and status still show them.
func planOrDefaults(p *pipeline.Pipeline, vs *views.Views, models *gold.Models, m *views.Measurements, log *slog.Logger) (*views.Plan, error) {
	pl, err := views.Build(p, vs, models, m)
	var inf *views.InfeasibleError
	if !errors.As(err, &inf) {
		return pl, err
	}
	pl, derr := views.Build(p, vs, models, &views.Measurements{})
	if derr != nil {
		return nil, err // unmeetable by configuration: the measured error says more
	}
	log.Warn("an SLO cannot be met at the measured durations; planning with the defaults", "err", err, "hint", inf.Hint())
	return pl, nil
}
