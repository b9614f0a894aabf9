package main

import (
	"context"

	"github.com/spf13/cobra"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "lakectl",
		Short: "A medallion lakehouse toolkit: Bronze, Silver and Gold Delta tables",
		Long: `lakectl streams raw events from Kafka and HTTP into Bronze, cleans them hourly into
Silver, and keeps every table a Delta Lake table in a local directory or S3.

Commands that belong to a pipeline read lakectl.yaml from --pipeline DIR,
$LAKECTL_PIPELINE, or the working directory (lakectl init writes an example). Flags
override LAKECTL_* variables, which override the file; each flag's help names its
variable.

Exit status: 0 on success, 1 on any error (the message is on stderr, with a "hint:"
line when there is something to do). Commands whose output a script reads take
--json.`,
		// Only the version flag's text is needed: cobra prints it for --version.
		Version:       "-",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return applyEnv(cmd)
		},
	}
	cobra.AddTemplateFunc("lakectlVersion", func() string { return versionText(context.Background()) })
	root.SetVersionTemplate("{{lakectlVersion}}")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return hinted(err, "lakectl "+commandPath(cmd)+"--help lists the flags")
	})
	root.AddCommand(newTableCmd(), newVacuumCmd(), newVersionCmd())
	root.AddCommand(newIngestCmd(), newDevCmd(), newGenCmd(), newVerifyCmd(), newStatusCmd(), newCompactCmd())
	root.AddCommand(newInitCmd(), newRunCmd(), newRefCmd(), newQuarantineCmd(), newQueryCmd(), newCatalogCmd())
	root.AddCommand(newViewsCmd(), newPlanCmd(), newServeCmd())
	return root
}

// commandPath is the command's path below the root with a trailing space ("run silver "),
// or "" for the root itself.
func commandPath(cmd *cobra.Command) string {
	if !cmd.HasParent() {
		return ""
	}
	return cmd.CommandPath()[len(cmd.Root().Name())+1:] + " "
}
