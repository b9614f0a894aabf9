package main

import (
	"cmp"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/lakectl/lakectl/catalog"
	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
	"github.com/lakectl/lakectl/lake/stores"
	"github.com/lakectl/lakectl/pipeline"
)

// openQuery opens what `lakectl query` reads: the pipeline when there is one (-p,
// $LAKECTL_PIPELINE, or a lakectl.yaml in the working directory); else the lake of
// --lake (or $LAKECTL_LAKE) alone, whose tables are found by name under its layers;
// else, when external tables are given, no lake at all (the store is nil).
func (f *pipelineFlags) openQuery(ctx context.Context, external bool) (*pipelineEnv, error) {
	f.ov.Env = os.Getenv
	if f.dir != "" || os.Getenv("LAKECTL_PIPELINE") != "" {
		return f.open(ctx, true)
	}
	if _, err := os.Stat(pipeline.FileName); !errors.Is(err, fs.ErrNotExist) {
		return f.open(ctx, true)
	}
	lakeURL := cmp.Or(f.ov.Store, os.Getenv("LAKECTL_LAKE"))
	if lakeURL == "" && !external {
		return nil, usageErrorf(noLakeHint+", or --table NAME=URL", "no lake given")
	}
	// A pipeline that declares nothing: the store and DuckDB settings of the command
	// line and the environment, and the defaults of the rest.
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	p, err := pipeline.Parse(filepath.Join(wd, pipeline.FileName), []byte("{}"), f.ov)
	if err != nil {
		return nil, err
	}
	if lakeURL == "" {
		return &pipelineEnv{p: p, log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))}, nil
	}
	env, err := openEnv(ctx, p, true)
	if err != nil {
		return nil, err
	}
	env.lakeOnly = true
	return env, nil
}

// addExternalTables adds the tables of --table NAME=URL to tables.
func addExternalTables(ctx context.Context, tables *lakeTables, specs []string) error {
	for _, spec := range specs {
		name, url, ok := strings.Cut(spec, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		if !ok || url == "" || !catalog.NameRe.MatchString(name) {
			return usageErrorf("give --table NAME=URL, NAME in letters, digits and _ (--table trips=s3://other/trips)", "bad --table %q", spec)
		}
		if _, dup := tables.Source(engine.TableName{Name: name}); dup {
			return usageErrorf("give each --table its own name", "--table %s given twice", name)
		}
		url = absPath(url)
		store, err := stores.Open(ctx, url, stores.Options{Logger: tables.env.log, ReadOnly: true})
		if err != nil {
			return err // stores.Open names the URL
		}
		c := cache.New(store, cache.DirFor(url), 0)
		src := catalog.Source{Table: lake.NewTable(c.LogStore(), "", lake.WithName(url)), Cache: c, URL: url}
		tables.AddExternal(name, src)
	}
	return nil
}
