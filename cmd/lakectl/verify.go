package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/lakectl/lakectl/bronze"
	"github.com/lakectl/lakectl/lake/stores"
	"github.com/spf13/cobra"
)

func newVerifyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Prove properties of tables against their sources",
	}
	cmd.AddCommand(newVerifyBronzeCmd())
	return cmd
}

// verifyFailed is returned when verify ran and found problems.
type verifyFailed struct{ problems []string }

func (e verifyFailed) Error() string {
	return fmt.Sprintf("verify found %d problem(s); first: %s", len(e.problems), e.problems[0])
}

func (e verifyFailed) Hint() string {
	return "the report above lists every problem; a gap means records that were acknowledged by Kafka are not in Bronze"
}

func newVerifyBronzeCmd() *cobra.Command {
	var (
		lakeURL, stream string
		brokers         []string
		timeout         time.Duration
	)
	cmd := &cobra.Command{
		Use:   "bronze",
		Short: "Check that every ingested Kafka offset is in Bronze exactly once",
		Long: `bronze reads the offset ledger of a Bronze table and, for each Kafka partition, the
broker's records from the first ingested offset to the ledger's version, and checks
that each is in Bronze exactly once with the same payload (and that HTTP sequence
numbers are gapless and unique). It prints a JSON report and exits non-zero on any
gap, duplicate or mismatch.`,
		Example: `  lakectl verify bronze --lake ./lake --stream events --brokers 127.0.0.1:9092`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			store, err := stores.Open(ctx, lakeURL, stores.Options{ReadOnly: true})
			if err != nil {
				return fmt.Errorf("open lake %s: %w", lakeURL, err)
			}
			rep, err := bronze.Verify(ctx, bronze.VerifyConfig{Store: store, Stream: stream, Brokers: brokers, Timeout: timeout})
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			if err := enc.Encode(rep); err != nil {
				return err
			}
			if !rep.OK {
				return verifyFailed{rep.Problems}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&lakeURL, "lake", envOr("LAKECTL_LAKE", ""), "lake URL")
	f.StringVar(&stream, "stream", "", "stream (Bronze table bronze/<stream>)")
	f.StringSliceVar(&brokers, "brokers", envList("LAKECTL_BROKERS"), "Kafka seed brokers to verify against (none: check the ledger only)")
	f.DurationVar(&timeout, "timeout", 2*time.Minute, "bound on reading the broker")
	cmd.MarkFlagRequired("lake")
	cmd.MarkFlagRequired("stream")
	return cmd
}
