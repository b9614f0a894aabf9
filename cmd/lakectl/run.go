package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
	"github.com/lakectl/lakectl/lake/stores"
	"github.com/lakectl/lakectl/pipeline"
)

// newRunCmd groups the one-shot jobs: `lakectl run silver`, and `run gold` beside it.
func newRunCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run a one-shot job (for cron, Kubernetes CronJobs, Airflow)",
	}
	cmd.AddCommand(newRunSilverCmd())
	return cmd
}

// pipelineFlags are the flags of every command that reads lakectl.yaml.
type pipelineFlags struct {
	dir string
	ov  pipeline.Overrides
}

func (f *pipelineFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.dir, "pipeline", "p", "", "pipeline directory or lakectl.yaml (default $LAKECTL_PIPELINE, else .)")
	f.ov.Register(cmd.Flags())
}

// pipelineEnv is what a pipeline command works with.
type pipelineEnv struct {
	p     *pipeline.Pipeline
	store lake.Store
	cache *cache.Cache
	log   *slog.Logger
}

// open loads the pipeline (flags over LAKECTL_* over the file) and opens its store,
// read-only for commands that only read.
func (f *pipelineFlags) open(ctx context.Context, readOnly bool) (*pipelineEnv, error) {
	f.ov.Env = os.Getenv
	p, err := pipeline.Load(f.ov.Dir(f.dir), f.ov)
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	store, err := stores.Open(ctx, p.Store.OpenURL(), stores.Options{Logger: log, ReadOnly: readOnly})
	if err != nil {
		return nil, err
	}
	return &pipelineEnv{p: p, store: store, cache: cache.New(store, p.Store.CacheDir, 0), log: log}, nil
}
