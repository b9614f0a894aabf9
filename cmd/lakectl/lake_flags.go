package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/stores"
	"github.com/lakectl/lakectl/pipeline"
)

// lakeUsage is the help of --lake, the same on every command that takes it.
const lakeUsage = "lake URL: a directory, file:///path or s3://bucket/prefix; overrides the pipeline's store"

// noLakeHint is what to do when a command has no lake to work on.
const noLakeHint = "give --lake URL (or $LAKECTL_LAKE), or --pipeline DIR with a lakectl.yaml"

// lakeFlags are --lake and --pipeline of the commands that run from flags alone or
// from a pipeline: ingest, status, compact bronze and verify bronze.
type lakeFlags struct {
	url, dir string
}

func (f *lakeFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.url, "lake", "", lakeUsage)
	bindEnv(cmd.Flags(), "lake", "LAKECTL_LAKE")
	pipelineFlag(cmd, &f.dir)
}

// pipeline loads the pipeline when one was asked for or the working directory holds
// one, else returns nil. ov carries the command's other flags that lakectl.yaml
// also sets; --lake is added here.
func (f *lakeFlags) pipeline(cmd *cobra.Command, ov pipeline.Overrides) (*pipeline.Pipeline, error) {
	ov.Store = absPath(changed(cmd.Flags(), "lake", f.url))
	return findPipeline(f.dir, ov)
}

// sealGraces is the sealing rule of a command that takes --grace: the pipeline's
// (each stream's grace from lakectl.yaml, which --grace or $LAKECTL_GRACE replace for
// every stream), or without a pipeline --grace for every stream. ov of such a
// command carries --grace (graceOverride) so that the pipeline holds it.
func sealGraces(p *pipeline.Pipeline, grace time.Duration) layout.Graces {
	if p == nil {
		return layout.Graces{Default: grace}
	}
	return p.Graces()
}

// graceOverride returns --grace when it was given on the command line, else 0.
func graceOverride(cmd *cobra.Command, grace time.Duration) time.Duration {
	if cmd.Flags().Changed("grace") {
		return grace
	}
	return 0
}

// lakeURL returns the lake to open: the pipeline's store, which already holds
// --lake and $LAKECTL_LAKE over the file, or without a pipeline --lake itself.
func (f *lakeFlags) lakeURL(p *pipeline.Pipeline) (string, error) {
	u := f.url
	if p != nil {
		u = p.Store.OpenURL()
	}
	if u == "" {
		return "", usageErrorf(noLakeHint, "no lake given")
	}
	return u, nil
}

// openedLake is the lake a command works on and the pipeline it came from, if any.
type openedLake struct {
	pipeline *pipeline.Pipeline // nil without a pipeline
	url      string
	store    lake.Store
}

// open finds the pipeline (see pipeline), the lake's URL (see lakeURL) and opens the
// lake's store with opts.
func (f *lakeFlags) open(cmd *cobra.Command, ov pipeline.Overrides, opts stores.Options) (openedLake, error) {
	p, err := f.pipeline(cmd, ov)
	if err != nil {
		return openedLake{}, err
	}
	u, err := f.lakeURL(p)
	if err != nil {
		return openedLake{}, err
	}
	store, err := stores.Open(cmd.Context(), u, opts)
	if err != nil {
		return openedLake{}, err
	}
	return openedLake{pipeline: p, url: u, store: store}, nil
}
