package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/lakectl/lakectl/bronze"
	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake/stores"
	"github.com/lakectl/lakectl/pipeline"
)

func newCompactCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "compact",
		Short: "Rewrite many small files into few large ones",
	}
	cmd.AddCommand(newCompactBronzeCmd())
	return cmd
}

func newCompactBronzeCmd() *cobra.Command {
	var (
		lf                      lakeFlags
		hour, targetSize, spool string
		streams                 []string
		sealed, asJSON          bool
		grace                   time.Duration
	)
	cmd := &cobra.Command{
		Use:   "bronze",
		Short: "Compact sealed ingest hours of Bronze tables",
		Long: `Rewrite the small files of sealed ingest hours into files of about
--target-size, in one commit per hour that removes the old files and adds the new ones
with dataChange=false: the rows stay byte for byte the same, the files' tags keep the
offset ranges they hold (so verify bronze still proves exactly-once), and readers that
follow new data skip the commit. Only sealed hours are compacted, so it is safe while
ingest runs; an hour already compacted is left alone. lakectl ingest does this itself
unless started with --compact=false.

With a pipeline (--pipeline DIR, $LAKECTL_PIPELINE, or a lakectl.yaml in the working
directory), the lake comes from lakectl.yaml unless --lake or $LAKECTL_LAKE is given.`,
		Example: `  lakectl compact bronze --sealed                      # in a pipeline directory
  lakectl compact bronze --lake ./lake --sealed --json
  lakectl compact bronze --lake s3://lake/prod --stream events --hour 2026-11-21T08`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if (hour == "") == !sealed {
				return usageErrorf("give --hour 2026-11-21T08 for one hour or --sealed for every sealed hour", "compact bronze needs exactly one of --hour and --sealed")
			}
			var h layout.Hour
			if hour != "" {
				var err error
				if h, err = parseHourFlag("hour", hour); err != nil {
					return err
				}
			}
			size, err := pipeline.ParseBytes(targetSize)
			if err != nil {
				return fmt.Errorf("--target-size: %w", err)
			}
			l, err := lf.open(cmd, pipeline.Overrides{Grace: graceOverride(cmd, grace)}, stores.Options{})
			if err != nil {
				return err
			}
			store := l.store
			if len(streams) == 0 {
				if streams, err = bronze.Streams(ctx, store); err != nil {
					return err
				}
			}
			c := bronze.NewCompactor(store, bronze.CompactOptions{TargetSize: size, Graces: sealGraces(l.pipeline, grace), Files: bronze.FileOptions{SpoolDir: spool}})
			results := []bronze.CompactResult{}
			for _, s := range streams {
				if sealed {
					rs, err := c.Sealed(ctx, s)
					results = append(results, rs...)
					if err != nil {
						return err
					}
					continue
				}
				r, err := c.Hour(ctx, s, h)
				if unsealed := (*bronze.UnsealedError)(nil); errors.As(err, &unsealed) {
					return usageErrorf("run lakectl status to see each stream's sealing marks", "%v", err)
				}
				if err != nil {
					return err
				}
				results = append(results, r)
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), results)
			}
			return writeCompactText(cmd.OutOrStdout(), results)
		},
	}
	f := cmd.Flags()
	lf.register(cmd)
	f.StringArrayVar(&streams, "stream", nil, "stream to compact (repeatable; default: every Bronze table)")
	f.StringVar(&hour, "hour", "", "the ingest hour to compact, e.g. 2026-11-21T08 (UTC); it must be sealed")
	f.BoolVar(&sealed, "sealed", false, "compact every sealed hour that has small files")
	f.StringVar(&targetSize, "target-size", "128MiB", "size of the files to write")
	bindEnv(f, "target-size", "LAKECTL_COMPACT_SIZE")
	f.DurationVar(&grace, "grace", layout.DefaultGrace, "grace after an hour before it counts as sealed, for every stream (default: each stream's grace in lakectl.yaml, else 5m)")
	bindEnv(f, "grace", "LAKECTL_GRACE")
	f.StringVar(&spool, "spool-dir", "", "where files are staged (default: the temp dir)")
	bindEnv(f, "spool-dir", "LAKECTL_SPOOL_DIR")
	f.BoolVar(&asJSON, "json", false, "print one JSON array of the hours compacted instead of a table")
	return cmd
}

// writeCompactText prints one line per hour compacted, or why nothing was.
func writeCompactText(out io.Writer, results []bronze.CompactResult) error {
	w := newTabWriter(out)
	fmt.Fprintln(w, "STREAM\tHOUR\tVERSION\tFILES\tROWS\tBYTES")
	for _, r := range results {
		if r.Version < 0 {
			fmt.Fprintf(w, "%s\t%s\t-\tnothing to compact\t\t\n", r.Stream, r.Hour)
			continue
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%d -> %d\t%d\t%d -> %d\n", r.Stream, r.Hour, r.Version, r.Removed, r.Added, r.Rows, r.BytesIn, r.BytesOut)
	}
	if len(results) == 0 {
		fmt.Fprintln(w, "(no sealed hour has files to compact)")
	}
	return w.Flush()
}
