package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/lakectl/lakectl/pipeline"
	"github.com/lakectl/lakectl/silver"
)

func newRefCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "ref", Short: "Manage reference tables (enrichment data)"}
	cmd.AddCommand(newRefLoadCmd())
	return cmd
}

func newRefLoadCmd() *cobra.Command {
	var (
		pf        pipelineFlags
		validFrom string
	)
	cmd := &cobra.Command{
		Use:   "load NAME [FILE]",
		Short: "Load a new version of reference table ref/NAME from a CSV or Parquet file, in one commit",
		Long: `Load a CSV (with a header line) or Parquet file into the Delta table ref/NAME as
its new version. FILE defaults to the file that lakectl.yaml declares for NAME.

ref/NAME keeps its history: each row is valid from _valid_from to _valid_to. A
snapshot file is valid from now, or from --valid-from: rows that changed or are gone
end there, new ones start there (a key never seen before is valid since ever, so
events that came before it find it). A file whose reference declares valid_from: and
valid_to: in lakectl.yaml is a type-2 history, loaded as it is. A load that makes two
rows of one key valid at once is refused, naming the key.`,
		Example: `  lakectl ref load users
  lakectl ref load users ./exports/users-2026-11-21.parquet
  lakectl ref load users ./exports/users.csv --valid-from 2026-11-21T12:00:00Z`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if err := pipeline.CheckName("reference table", args[0]); err != nil {
				return err
			}
			env, err := pf.open(ctx, false)
			if err != nil {
				return err
			}
			name, file := args[0], ""
			ref := env.p.Ref(name)
			if len(args) == 2 {
				file = args[1]
			} else if ref != nil {
				file = env.p.Path(ref.File)
			} else {
				return usageErrorf("give the file: lakectl ref load "+name+" FILE, or declare it under reference: in "+env.p.File,
					"no reference table %q in %s", name, env.p.File)
			}
			spec := silver.RefSpec{Name: name, File: file}
			if ref != nil {
				spec = silver.RefSpecOf(*ref, file)
			}
			if validFrom != "" {
				t, err := time.Parse(time.RFC3339Nano, validFrom)
				if err != nil {
					return usageErrorf("write it as an RFC 3339 time with a zone, e.g. 2026-11-21T12:00:00Z", "bad --valid-from %q", validFrom)
				}
				spec.ValidFrom = t
			}
			sess, err := env.session(ctx)
			if err != nil {
				return err
			}
			defer sess.Close()
			res, err := silver.LoadRef(ctx, env.store, sess, spec, time.Now())
			if err != nil {
				return err
			}
			valid := "validity from the file"
			if res.ValidFrom != nil {
				valid = "valid from " + res.ValidFrom.Format(time.RFC3339Nano)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ref.%s: %d rows from %s, %s: %d rows opened, %d closed, v%d\n",
				res.Name, res.Rows, res.File, valid, res.Opened, res.Closed, res.Version)
			return nil
		},
	}
	pf.register(cmd)
	cmd.Flags().StringVar(&validFrom, "valid-from", "", "when the file's rows became valid, RFC 3339 (default: now); for snapshot files")
	return cmd
}
