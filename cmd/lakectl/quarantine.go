package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lakectl/lakectl/silver"
)

func newQuarantineCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "quarantine", Short: "Inspect and replay rows that failed a Silver contract"}
	cmd.AddCommand(newQuarantineListCmd(), newQuarantineReplayCmd())
	return cmd
}

// tablesOrAll returns args, or every Silver table of the pipeline.
func tablesOrAll(env *pipelineEnv, args []string) []string {
	if len(args) > 0 {
		return args
	}
	var out []string
	for _, t := range env.p.Silver {
		out = append(out, t.Name)
	}
	return out
}

func newQuarantineListCmd() *cobra.Command {
	var pf pipelineFlags
	cmd := &cobra.Command{
		Use:   "list [TABLE...]",
		Short: "Count quarantined rows by reason, with a sample payload",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			env, err := pf.open(ctx, true)
			if err != nil {
				return err
			}
			job := silver.NewJob(silver.Config{Store: env.store, Pipeline: env.p, Cache: env.cache, Logger: env.log})
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TABLE\tROWS\tFIRST\tLAST\tREASON\tSAMPLE")
			for _, table := range tablesOrAll(env, args) {
				list, err := job.ListQuarantine(ctx, table)
				if err != nil {
					return err
				}
				for _, rc := range list {
					fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", table, rc.Rows, rc.First.UTC().Format(time.RFC3339),
						rc.Last.UTC().Format(time.RFC3339), rc.Reason, clip(rc.Sample, 60))
				}
			}
			return tw.Flush()
		},
	}
	pf.register(cmd)
	return cmd
}

func newQuarantineReplayCmd() *cobra.Command {
	var (
		pf     pipelineFlags
		reason string
	)
	cmd := &cobra.Command{
		Use:   "replay [TABLE...]",
		Short: "Run quarantined rows through the current contract into Silver, exactly once",
		Long: `After a contract fix (or a reference table load), run quarantined rows through the
current contract: rows that pass are merged into Silver, deduplicated like any batch,
and leave the quarantine; rows that still fail stay. Safe to repeat or to interrupt.`,
		Example: `  lakectl quarantine replay events --reason "event_type"`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			env, err := pf.open(ctx, false)
			if err != nil {
				return err
			}
			job := silver.NewJob(silver.Config{Store: env.store, Pipeline: env.p, Cache: env.cache, Logger: env.log})
			for _, table := range tablesOrAll(env, args) {
				sum, err := job.Replay(ctx, table, silver.ReplayOptions{Reason: reason})
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: replayed %d, now valid %d, written %d, duplicates %d, still failing %d, silver v%d\n",
					table, sum.RowsIn, sum.Valid, sum.Written, sum.Duplicates, sum.RowsIn-sum.Valid, sum.Version)
			}
			return nil
		},
	}
	pf.register(cmd)
	cmd.Flags().StringVar(&reason, "reason", "", "replay only rows whose reason contains this text")
	return cmd
}

func clip(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
