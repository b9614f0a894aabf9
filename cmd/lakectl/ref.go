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
	var pf pipelineFlags
	cmd := &cobra.Command{
		Use:   "load NAME [FILE]",
		Short: "Replace reference table ref/NAME with a CSV or Parquet file, in one commit",
		Long: `Load a CSV (with a header line) or Parquet file into the Delta table ref/NAME,
replacing what it held. FILE defaults to the file that lakectl.yaml declares for NAME.`,
		Example: `  lakectl ref load users
  lakectl ref load users ./exports/users-2026-11-21.parquet`,
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
			if len(args) == 2 {
				file = args[1]
			} else if ref := env.p.Ref(name); ref != nil {
				file = env.p.Path(ref.File)
			} else {
				return usageErrorf("give the file: lakectl ref load "+name+" FILE, or declare it under reference: in "+env.p.File,
					"no reference table %q in %s", name, env.p.File)
			}
			sess, err := env.session(ctx)
			if err != nil {
				return err
			}
			defer sess.Close()
			res, err := silver.LoadRef(ctx, env.store, sess, name, file, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ref.%s: %d rows from %s, v%d\n", res.Name, res.Rows, res.File, res.Version)
			return nil
		},
	}
	pf.register(cmd)
	return cmd
}
