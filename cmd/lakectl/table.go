package main

import "github.com/spf13/cobra"

// newTableCmd groups the commands that inspect one Delta table; only check --repair
// writes.
func newTableCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "table",
		Short: "Inspect a Delta table: its current state, its history, its files",
		Long: `Inspect a Delta table.

URL is a local directory, a file:// URL or s3://bucket/prefix/table; the table's
_delta_log is directly under it.`,
	}
	cmd.AddCommand(newTableShowCmd(), newTableHistoryCmd(), newTableCheckCmd())
	return cmd
}
