package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lakectl/lakectl/silver"
)

func newQuarantineCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "quarantine", Short: "Inspect and replay rows that failed a Silver contract"}
	cmd.AddCommand(newQuarantineListCmd(), newQuarantineReplayCmd())
	return cmd
}

// quarantineRow is one line of `quarantine list`; its JSON form is for scripts.
type quarantineRow struct {
	Table  string    `json:"table"`
	Reason string    `json:"reason"`
	Rows   int64     `json:"rows"`
	First  time.Time `json:"first"`
	Last   time.Time `json:"last"`
	Sample string    `json:"sample"`
}

func newQuarantineListCmd() *cobra.Command {
	var (
		pf     pipelineFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list [TABLE...]",
		Short: "Count quarantined rows by reason, with a sample payload",
		Long: `Count the rows of quarantine/<table> (every Silver table unless TABLE is given) by
reason, most frequent first, with the first and last ingest time among them and one
sample payload. Only reads.`,
		Example: `  lakectl quarantine list
  lakectl quarantine list events --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			env, err := pf.open(ctx, true)
			if err != nil {
				return err
			}
			job := env.job(nil)
			rows := []quarantineRow{}
			for _, table := range env.silverTables(args) {
				list, err := job.ListQuarantine(ctx, table)
				if err != nil {
					return err
				}
				for _, rc := range list {
					rows = append(rows, quarantineRow{Table: table, Reason: rc.Reason, Rows: rc.Rows,
						First: rc.First.UTC(), Last: rc.Last.UTC(), Sample: rc.Sample})
				}
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), rows)
			}
			tw := newTabWriter(cmd.OutOrStdout())
			fmt.Fprintln(tw, "TABLE\tROWS\tFIRST\tLAST\tREASON\tSAMPLE")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", r.Table, r.Rows, r.First.Format(time.RFC3339),
					r.Last.Format(time.RFC3339), r.Reason, clip(r.Sample, 60))
			}
			return tw.Flush()
		},
	}
	pf.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON array of {table, reason, rows, first, last, sample} with the whole sample")
	return cmd
}

func newQuarantineReplayCmd() *cobra.Command {
	var (
		pf     pipelineFlags
		reason string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "replay [TABLE...]",
		Short: "Run quarantined rows through the current contract into Silver, exactly once",
		Long: `After a contract fix (or a reference table load), run quarantined rows through the
current contract: rows that pass are merged into Silver, deduplicated like any batch,
and leave the quarantine; rows that still fail stay. Safe to repeat or to interrupt.`,
		Example: `  lakectl quarantine replay events --reason "event_type"
  lakectl quarantine replay --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			env, err := pf.open(ctx, false)
			if err != nil {
				return err
			}
			job := env.job(nil)
			out := cmd.OutOrStdout()
			for _, table := range env.silverTables(args) {
				sum, err := job.Replay(ctx, table, silver.ReplayOptions{Reason: reason})
				if err != nil {
					return err
				}
				if asJSON {
					if err := writeJSONLine(out, sum); err != nil {
						return err
					}
					continue
				}
				version := "silver unchanged"
				if sum.Version >= 0 {
					version = fmt.Sprintf("silver v%d", sum.Version)
				}
				fmt.Fprintf(out, "%s: replayed %d, now valid %d, written %d, duplicates %d, still failing %d, %s\n",
					table, sum.RowsIn, sum.Valid, sum.Written, sum.Duplicates, sum.RowsIn-sum.Valid, version)
			}
			return nil
		},
	}
	pf.register(cmd)
	cmd.Flags().StringVar(&reason, "reason", "", "replay only rows whose reason contains this text (default: every row)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print each table's summary as one JSON object per line, as run silver --json does")
	return cmd
}

func clip(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
