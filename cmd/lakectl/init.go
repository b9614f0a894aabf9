package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lakectl/lakectl/pipeline"
)

func newInitCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "init DIR",
		Short: "Write an example pipeline (lakectl.yaml and reference data) into DIR",
		Long: `Write a working example pipeline into DIR: lakectl.yaml with a local lake, the
events stream, the Silver contract of the generator's events (event_id, user_id,
event_type, amount, timestamp) enriched with the user's country and plan, and
reference/users.csv. DIR must not hold a lakectl.yaml already. Commands run in DIR
(or with --pipeline DIR, or LAKECTL_PIPELINE=DIR) use it.`,
		Example: `  lakectl init demo && cd demo
  lakectl ref load users
  lakectl ingest --http 127.0.0.1:8080 --brokers= &   # HTTP only: the file names a Kafka at localhost:9092
  lakectl gen --count 100000 --url http://127.0.0.1:8080/v1/streams/events/events
  lakectl run silver --hour "$(date -u +%Y-%m-%dT%H)" --force   # or --pending once the hour is sealed
  lakectl query "SELECT country, count(*) FROM silver.events GROUP BY ALL"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			written, err := pipeline.WriteExample(args[0])
			if err != nil {
				return err
			}
			for _, f := range written {
				fmt.Fprintln(cmd.OutOrStdout(), "wrote", f)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "next: cd %s && lakectl ref load users\n", args[0])
			return nil
		},
	}
}
