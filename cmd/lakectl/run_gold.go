package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lakectl/lakectl/gold"
	"github.com/lakectl/lakectl/pipeline/jobenv"
)

func newRunGoldCmd() *cobra.Command {
	var (
		pf                 pipelineFlags
		dayFlag, from, to  string
		stale, force, asJS bool
	)
	cmd := &cobra.Command{
		Use:   "gold [MODEL...] (--day D | --stale | --from D1 --to D2)",
		Short: "Build days of the Gold models (models/*.sql)",
		Long: `Build days of the Gold models of the pipeline (all of them unless MODEL is given),
in dependency order. A day is computed from only the Silver (and Gold) partitions it
reads, its audits run before anything is committed, and its partition is replaced in
one commit that records the input versions and days it read. D is a UTC day,
2026-11-21.

--stale rebuilds exactly the days that are stale, saying why: an input commit after
the version a day was built from touched a day it reads (late events), a day with
Silver data and no Gold partition (a gap), or a day built partially that is
complete now. A second --stale has nothing to do. lakectl status lists them.

A day that is not complete (its ingest hours through the day's end plus the model's
lateness not all sealed and processed by Silver) is refused unless --force, which
builds it as partial; it is stale, and rebuilt, once complete. A range stops at the
first incomplete day of each model. A day already built from the same input
versions is not built again.`,
		Example: `  lakectl run gold --day 2026-11-21
  lakectl run gold daily_metrics --from 2026-11-01 --to 2026-11-21
  lakectl run gold --stale --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			days, err := dayFlags(dayFlag, from, to, stale)
			if err != nil {
				return err
			}
			env, err := pf.open(ctx, false)
			if err != nil {
				return err
			}
			job, models, err := env.goldJob(ctx, killHook())
			if err != nil {
				return err
			}
			selected, err := models.Selected(args)
			if err != nil {
				return hinted(err, "the models are the files models/*.sql of "+env.p.Dir)
			}
			if len(selected) == 0 {
				return usageErrorf("write one as models/NAME.sql (lakectl init has examples)", "no models in %s/models", env.p.Dir)
			}
			out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
			if stale {
				return runGoldStale(ctx, job, args, force, asJS, out, errOut)
			}
			for _, m := range selected {
				bar := newRangeBar(os.Stderr, len(days), m.Name)
				for i, d := range days {
					sum, err := job.RunDay(ctx, m.Name, d, gold.RunOptions{Force: force})
					bar.clear()
					var inc *gold.IncompleteError
					if errors.As(err, &inc) && len(days) > 1 {
						// Later days are no more complete: the range is done for this model.
						fmt.Fprintf(errOut, "lakectl: %s: stopped at day %s, not complete (%d earlier days done): %s; --force builds it partially\n",
							m.Name, d, i, inc.Why)
						break
					}
					if err != nil {
						return err
					}
					printGoldSummary(out, sum, asJS)
					bar.add()
				}
				bar.clear()
			}
			return nil
		},
	}
	pf.register(cmd)
	f := cmd.Flags()
	f.StringVar(&dayFlag, "day", "", "the day to build, e.g. 2026-11-21 (UTC)")
	f.BoolVar(&stale, "stale", false, "rebuild every stale day, in dependency order, saying why")
	f.StringVar(&from, "from", "", "first day of a range to build")
	f.StringVar(&to, "to", "", "last day of a range to build (inclusive)")
	f.BoolVar(&force, "force", false, "build a day that is not complete yet (recorded as partial, rebuilt once complete)")
	f.BoolVar(&asJS, "json", false, "print each day's summary as one JSON object per line")
	return cmd
}

// goldJob loads the models (checked, with file:line errors) and returns the Gold
// job over them; hook is nil outside crash tests.
func (e *pipelineEnv) goldJob(ctx context.Context, hook func(string)) (*gold.Job, *gold.Models, error) {
	cfg := jobenv.EngineConfig(e.p.DuckDB, e.log)
	models, err := gold.Load(ctx, e.p, cfg)
	if err != nil {
		return nil, nil, err
	}
	job := gold.NewJob(gold.Config{Env: jobenv.Env{Store: e.store, Pipeline: e.p, Cache: e.cache, Engine: cfg, Logger: e.log, Hook: hook}, Models: models})
	return job, models, nil
}

// runGoldStale rebuilds the stale days and says which and why.
func runGoldStale(ctx context.Context, job *gold.Job, models []string, force, asJSON bool, out, errOut io.Writer) error {
	n := 0
	err := job.RunStale(ctx, models, force, func(model string, d gold.StaleDay, sum *gold.Summary) {
		n++
		if sum == nil {
			fmt.Fprintf(errOut, "lakectl: %s %s is stale (%s) but not complete: %s; --force builds it partially\n",
				model, d.Day, reasons(d.Reasons), d.Completeness.Why)
			return
		}
		if !asJSON {
			fmt.Fprintf(out, "%s %s: stale: %s\n", model, d.Day, reasons(d.Reasons))
		}
		printGoldSummary(out, *sum, asJSON)
	})
	if err != nil {
		return err
	}
	if n == 0 {
		w := out
		if asJSON {
			w = errOut // --json keeps stdout to summaries
		}
		fmt.Fprintln(w, "no stale days")
	}
	return nil
}

func reasons(rs []gold.Reason) string {
	var s []string
	for _, r := range rs {
		s = append(s, r.String())
	}
	return strings.Join(s, "; ")
}

// dayFlags checks that exactly one way to choose days was given, and parses it.
func dayFlags(day, from, to string, stale bool) ([]gold.Day, error) {
	const hint = "give --day 2026-11-21, or --stale, or --from 2026-11-01 --to 2026-11-21"
	ways := 0
	for _, set := range []bool{day != "", stale, from != "" || to != ""} {
		if set {
			ways++
		}
	}
	if ways != 1 {
		return nil, usageErrorf(hint, "choose the days to build in one way")
	}
	parse := func(flag, v string) (gold.Day, error) {
		d, err := gold.ParseDay(v)
		if err != nil {
			return d, usageErrorf("a day is written 2026-11-21 (UTC)", "bad --%s: %v", flag, err)
		}
		return d, nil
	}
	switch {
	case day != "":
		d, err := parse("day", day)
		return []gold.Day{d}, err
	case stale:
		return nil, nil
	}
	if from == "" || to == "" {
		return nil, usageErrorf(hint, "--from and --to go together")
	}
	d1, err := parse("from", from)
	if err != nil {
		return nil, err
	}
	d2, err := parse("to", to)
	if err != nil {
		return nil, err
	}
	if d2.Before(d1) {
		return nil, usageErrorf("swap them", "--to %s is before --from %s", d2, d1)
	}
	var days []gold.Day
	for d := d1; !d2.Before(d); d = d.Add(1) {
		days = append(days, d)
	}
	return days, nil
}

func printGoldSummary(w io.Writer, s gold.Summary, asJSON bool) {
	if asJSON {
		writeJSONLine(w, s)
		return
	}
	if s.Skipped {
		fmt.Fprintf(w, "%s %s: already built from these input versions (%s)\n", s.Model, s.Day, inputVersions(s.Inputs))
		return
	}
	partial := ""
	if s.Partial {
		partial = " (partial: the day is not complete)"
	}
	fmt.Fprintf(w, "%s %s: rows %d, files read %d, replaced %d file(s) with %d, read %s, %s, gold v%d%s\n",
		s.Model, s.Day, s.Rows, s.FilesRead, s.FilesRemoved, s.FilesAdded, inputVersions(s.Inputs),
		time.Duration(s.Duration).Round(time.Millisecond), s.Version, partial)
}

func inputVersions(in map[string]int64) string {
	var s []string
	for root, v := range in {
		s = append(s, fmt.Sprintf("%s v%d", root, v))
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}
