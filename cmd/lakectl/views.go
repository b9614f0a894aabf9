package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lakectl/lakectl/pipeline/jobenv"
	"github.com/lakectl/lakectl/views"
)

// newViewsCmd groups the commands on materialized views (views/*.sql).
func newViewsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "views",
		Short: "Materialized views (views/*.sql): refresh them",
	}
	cmd.AddCommand(newViewsRefreshCmd())
	return cmd
}

func newViewsRefreshCmd() *cobra.Command {
	var (
		pf         pipelineFlags
		full, asJS bool
	)
	cmd := &cobra.Command{
		Use:   "refresh [VIEW...]",
		Short: "Refresh views: each written as views/<name> in one commit",
		Long: `Refresh the views of the pipeline (all of them unless VIEW is given): run each
view's SELECT and write the result as the Delta table views/<name> in one commit, so
that readers see the previous version until it lands.

A view with a time column (-- time: in its header) is refreshed incrementally:
only the days that the input commits since the last refresh touched are
recomputed. The first refresh, a changed view file, a view without a time column, an
input commit that does not say which days it changed, and --full recompute the
whole view. The commit records the mode and why, the input versions read and the
duration. When no input changed data since the last refresh, nothing is written.

A view whose consumers need it fresher than Silver's hourly cadence allows (lakectl
plan shows its path as the live tail) reads Silver plus the Bronze files of the hours
Silver has not processed yet, through the same Silver contract: parsed, checked
(rejected rows left out), deduplicated, and deduplicated against Silver. Such a view
is refreshed whole, and new Bronze commits count as input changes.

A consumer whose freshness SLO no path can meet is refused before anything runs
(see lakectl plan).`,
		Example: `  lakectl views refresh
  lakectl views refresh hourly_trends daily_summary --json
  lakectl views refresh realtime_kpis --full`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			env, err := pf.open(ctx, false)
			if err != nil {
				return err
			}
			// A consumer whose SLO no path can meet is refused before anything runs (one
			// that only the measured history makes unmeetable is a warning); the plan
			// says which views read the live tail.
			pl, err := env.plan(ctx, false)
			if err != nil {
				return err
			}
			tail := map[string]bool{}
			for _, v := range pl.Views {
				tail[v.Name] = v.Path == views.PathLiveTail
			}
			job, vs, err := env.viewsJob(ctx, killHook())
			if err != nil {
				return err
			}
			selected, err := vs.Selected(args)
			if err != nil {
				return hinted(err, "the views are the files views/*.sql of "+env.p.Dir)
			}
			if len(selected) == 0 {
				return usageErrorf("write one as views/NAME.sql (lakectl init has examples)", "no views in %s/views", env.p.Dir)
			}
			for _, v := range selected {
				sum, err := job.Refresh(ctx, v.Name, views.Options{Full: full, LiveTail: tail[v.Name]})
				if err != nil {
					return err
				}
				printViewSummary(cmd.OutOrStdout(), sum, asJS)
			}
			return nil
		},
	}
	pf.register(cmd)
	f := cmd.Flags()
	f.BoolVar(&full, "full", false, "recompute the whole view, even when only some days (or none) changed")
	f.BoolVar(&asJS, "json", false, "print each refresh's summary as one JSON object per line")
	return cmd
}

// viewsJob loads the views (checked, with file:line errors) and returns the refresh
// job over them; hook is nil outside crash tests.
func (e *pipelineEnv) viewsJob(ctx context.Context, hook func(string)) (*views.Job, *views.Views, error) {
	cfg := jobenv.EngineConfig(e.p.DuckDB, e.log)
	vs, err := views.Load(ctx, e.p, cfg)
	if err != nil {
		return nil, nil, err
	}
	job := views.NewJob(views.Config{Env: jobenv.Env{Store: e.store, Pipeline: e.p, Cache: e.cache, Engine: cfg, Logger: e.log, Hook: hook}, Views: vs})
	return job, vs, nil
}

func printViewSummary(w io.Writer, s views.Summary, asJSON bool) {
	if asJSON {
		writeJSONLine(w, s)
		return
	}
	if s.Skipped {
		fmt.Fprintf(w, "%s: up to date at v%d (%s)\n", s.View, s.Version, s.Reason)
		return
	}
	days := ""
	if len(s.Days) > 0 {
		days = " of " + strings.Join(s.Days, ", ")
	}
	fmt.Fprintf(w, "%s: %s refresh%s, rows %d, replaced %d file(s) with %d, read %s, %s, views v%d: %s\n",
		s.View, s.Mode, days, s.Rows, s.FilesRemoved, s.FilesAdded, inputVersions(s.Inputs),
		time.Duration(s.Duration).Round(time.Millisecond), s.Version, s.Reason)
}
