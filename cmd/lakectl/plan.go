package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/lakectl/lakectl/gold"
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
refuses it too. A view that neither a consumer nor a fixed -- refresh asks for is
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
			pl, err := env.plan(ctx)
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
// builds the plan: an SLO no path can meet is an error.
func (e *pipelineEnv) plan(ctx context.Context) (*views.Plan, error) {
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
	return views.Build(e.p, vs, models, m)
}
