package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
	"github.com/lakectl/lakectl/lake/stores"
	"github.com/lakectl/lakectl/pipeline"
	"github.com/lakectl/lakectl/pipeline/jobenv"
	"github.com/lakectl/lakectl/silver"
)

// newRunCmd groups the one-shot jobs: `lakectl run silver`, and `run gold` beside it.
func newRunCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run a one-shot job (for cron, Kubernetes CronJobs, Airflow)",
	}
	cmd.AddCommand(newRunSilverCmd(), newRunGoldCmd())
	return cmd
}

// pipelineFlags are the flags of every command that reads lakectl.yaml.
type pipelineFlags struct {
	dir string
	ov  pipeline.Overrides
}

func (f *pipelineFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.dir, "pipeline", "p", "", "pipeline directory or its lakectl.yaml (default $LAKECTL_PIPELINE, else the working directory)")
	f.ov.Register(cmd.Flags())
	// The pipeline loader reads these variables itself (flag > variable > file); the
	// help names them the way bindEnv does on the other commands.
	fl := cmd.Flags()
	fl.Lookup("lake").Usage = lakeUsage + " ($LAKECTL_LAKE)"
	fl.Lookup("memory-limit").Usage = "DuckDB memory limit, e.g. 4GiB; overrides duckdb.memory_limit ($LAKECTL_DUCKDB_MEMORY_LIMIT)"
	fl.Lookup("threads").Usage = "DuckDB threads; overrides duckdb.threads ($LAKECTL_DUCKDB_THREADS)"
}

// pipelineEnv is what a pipeline command works with.
type pipelineEnv struct {
	p     *pipeline.Pipeline
	store lake.Store
	cache *cache.Cache
	log   *slog.Logger
	// lakeOnly: opened from a lake URL without a lakectl.yaml (lakectl query --lake);
	// p then holds only the store and the command line's settings.
	lakeOnly bool
}

// open loads the pipeline (flags over LAKECTL_* over the file) and opens its store,
// read-only for commands that only read.
func (f *pipelineFlags) open(ctx context.Context, readOnly bool) (*pipelineEnv, error) {
	f.ov.Env = os.Getenv
	p, err := pipeline.Load(f.ov.Dir(f.dir), f.ov)
	if err != nil {
		return nil, err
	}
	return openEnv(ctx, p, readOnly)
}

// openEnv opens the store of p and its cache.
func openEnv(ctx context.Context, p *pipeline.Pipeline, readOnly bool) (*pipelineEnv, error) {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	store, err := stores.Open(ctx, p.Store.OpenURL(), stores.Options{Logger: log, ReadOnly: readOnly})
	if err != nil {
		return nil, err
	}
	c := pipelineCache(p, store)
	// Commits are read through the cache: a new process reads a table's log from the
	// store as what changed since the last one looked.
	return &pipelineEnv{p: p, store: c.LogStore(), cache: c, log: log}, nil
}

// pipelineCache is the cache of p's lake as lakectl.yaml configures it: store.cache_dir
// (default: the lake's own directory in the user's cache) and store.cache_size.
func pipelineCache(p *pipeline.Pipeline, store lake.Store) *cache.Cache {
	dir := p.Store.CacheDir
	if dir == "" {
		dir = cache.DirFor(p.Store.OpenURL())
	}
	return cache.New(store, dir, p.Store.CacheBytes())
}

// job is the Silver job over the pipeline; hook is nil outside crash tests.
func (e *pipelineEnv) job(hook func(string)) *silver.Job {
	return silver.NewJob(silver.Config{Env: jobenv.Env{Store: e.store, Pipeline: e.p, Cache: e.cache, Logger: e.log, Hook: hook}})
}

// session opens a DuckDB session with the pipeline's duckdb: settings.
func (e *pipelineEnv) session(ctx context.Context) (*engine.Session, error) {
	return engine.Open(ctx, jobenv.EngineConfig(e.p.DuckDB, e.log))
}

// silverTables returns args, or every Silver table of the pipeline.
func (e *pipelineEnv) silverTables(args []string) []string {
	if len(args) > 0 {
		return args
	}
	var out []string
	for _, t := range e.p.Silver {
		out = append(out, t.Name)
	}
	return out
}
