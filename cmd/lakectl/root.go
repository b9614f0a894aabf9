package main

import (
	"github.com/spf13/cobra"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "lakectl",
		Short:         "A medallion lakehouse toolkit: Bronze, Silver and Gold Delta tables",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newTableCmd(), newVacuumCmd())
	root.AddCommand(newIngestCmd(), newDevCmd(), newGenCmd(), newVerifyCmd(), newStatusCmd(), newCompactCmd())
	root.AddCommand(newInitCmd(), newRunCmd(), newRefCmd(), newQuarantineCmd(), newQueryCmd())
	return root
}
