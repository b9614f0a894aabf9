// Package jobenv holds what every job of the pipeline runs with (Silver runs, Gold
// days, view refreshes): the lake, the pipeline, the local file cache, the DuckDB
// settings, a logger, a clock, a retry bound and crash-test hooks. Each job's Config
// embeds an Env, so the defaults below are decided in one place.
package jobenv

import (
	"log/slog"
	"time"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
	"github.com/lakectl/lakectl/pipeline"
)

// DefaultMaxAttempts bounds the retries of a run that lost a commit race.
const DefaultMaxAttempts = 5

// Env is the environment of a job.
type Env struct {
	Store    lake.Store
	Pipeline *pipeline.Pipeline
	// Cache gives DuckDB local copies of data files (the file store's own paths).
	// Default: a cache without a directory of its own.
	Cache *cache.Cache
	// Engine configures each run's DuckDB session. Default: the pipeline's duckdb
	// settings.
	Engine engine.Config
	// Logger receives one line per run and its decisions. Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// MaxAttempts bounds the retries of a run that lost a commit race. Default
	// DefaultMaxAttempts.
	MaxAttempts int
	// Hook, for crash tests, is called at the named points of a run (each job's Hook*
	// constants); the run commands kill themselves there when LAKECTL_TEST_KILL_AT
	// names the point. Default: none.
	Hook func(point string)
}

// WithDefaults returns e with every unset field at its default.
func (e Env) WithDefaults() Env {
	if e.Logger == nil {
		e.Logger = slog.New(slog.DiscardHandler)
	}
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.MaxAttempts <= 0 {
		e.MaxAttempts = DefaultMaxAttempts
	}
	if e.Hook == nil {
		e.Hook = func(string) {}
	}
	if e.Engine == (engine.Config{}) && e.Pipeline != nil {
		e.Engine = EngineConfig(e.Pipeline.DuckDB, e.Logger)
	}
	if e.Engine.Logger == nil {
		e.Engine.Logger = e.Logger
	}
	if e.Cache == nil {
		e.Cache = cache.New(e.Store, "", 0)
	}
	return e
}

// EngineConfig is the DuckDB session configuration that the pipeline's duckdb
// section asks for, logging to log.
func EngineConfig(d pipeline.DuckDB, log *slog.Logger) engine.Config {
	return engine.Config{MemoryLimit: d.MemoryLimit, Threads: d.Threads, TempDir: d.TempDir, Logger: log}
}
