package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lakectl/lakectl/bronze/devkafka"
	"github.com/spf13/cobra"
)

// newDevCmd groups the development tools. They are not for production.
func newDevCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Development tools (not for production)",
	}
	cmd.AddCommand(newDevKafkaCmd())
	return cmd
}

func newDevKafkaCmd() *cobra.Command {
	var (
		listen, dataDir string
		topics          []string
	)
	cmd := &cobra.Command{
		Use:   "kafka",
		Short: "Run a development Kafka broker (kfake) on TCP — NOT FOR PRODUCTION",
		Long: `Run franz-go's kfake, an in-memory Kafka-protocol broker, so that lakectl
gen, lakectl ingest and any Kafka client can be tried on one machine. It has no
security, keeps its data in memory unless --data-dir is given, and is not for
production. It prints its address on stdout and runs until interrupted.`,
		Example: `  lakectl dev kafka --listen 127.0.0.1:9092 --topic events:4 &
  lakectl ingest --lake ./lake --brokers 127.0.0.1:9092 --topic events &
  lakectl gen --brokers 127.0.0.1:9092 --topic events --count 10000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := devkafka.Config{Listen: listen, DataDir: dataDir, Topics: map[string]int32{}}
			for _, t := range topics {
				name, parts, ok := strings.Cut(t, ":")
				n := int64(4)
				if ok {
					var err error
					if n, err = strconv.ParseInt(parts, 10, 32); err != nil || n < 1 {
						return usageErrorf("e.g. --topic events:4", "--topic %q: want NAME:PARTITIONS with at least 1 partition", t)
					}
				}
				cfg.Topics[name] = int32(n)
			}
			b, err := devkafka.Start(cfg)
			if err != nil {
				return err
			}
			defer b.Close()
			fmt.Fprintf(cmd.ErrOrStderr(), "lakectl dev kafka: DEVELOPMENT BROKER, NOT FOR PRODUCTION, listening on %s\n", b.Addr())
			fmt.Fprintln(cmd.OutOrStdout(), b.Addr())
			<-cmd.Context().Done()
			return nil
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:9092", "TCP address to listen on (port 0 picks one)")
	cmd.Flags().StringArrayVar(&topics, "topic", nil, "NAME:PARTITIONS to create (repeatable); others are created on first use with 4")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "persist the broker's data here across restarts (default: memory only)")
	return cmd
}
