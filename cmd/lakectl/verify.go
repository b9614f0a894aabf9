package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/lakectl/lakectl/bronze"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/stores"
	"github.com/lakectl/lakectl/pipeline"
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
		lf      lakeFlags
		stream  string
		brokers []string
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "bronze",
		Short: "Check that every ingested Kafka record is in Bronze exactly once, as received",
		Long: `Read the offset ledger of a Bronze table and, for each Kafka partition, the
broker's records from the first ingested offset to the ledger's version, and checks
that each is in Bronze exactly once with the same payload, key and headers (a null
key or header value must be null in Bronze, an empty one empty), and that HTTP
sequence numbers are gapless and unique. It prints a JSON report and exits non-zero
on any gap, duplicate or mismatch.

With a pipeline (--pipeline DIR, $LAKECTL_PIPELINE, or a lakectl.yaml in the working
directory), the lake comes from lakectl.yaml unless --lake or $LAKECTL_LAKE is given.`,
		Example: `  lakectl verify bronze --lake ./lake --stream events --brokers 127.0.0.1:9092
  lakectl verify bronze --stream events        # in a pipeline directory: HTTP sequences and the ledger`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if stream == "" {
				return usageErrorf("lakectl status lists the streams", "give --stream, the stream whose Bronze table to verify")
			}
			l, err := lf.open(cmd, pipeline.Overrides{}, stores.Options{ReadOnly: true})
			if err != nil {
				return err
			}
			rep, err := bronze.Verify(ctx, bronze.VerifyConfig{Store: l.store, Stream: stream, Brokers: brokers, Timeout: timeout})
			if errors.Is(err, lake.ErrNoTable) {
				return hinted(err, "lakectl status lists the streams that have a Bronze table in "+l.url)
			}
			if err != nil {
				return err
			}
			if err := writeJSON(cmd.OutOrStdout(), rep); err != nil {
				return err
			}
			if !rep.OK {
				return verifyFailed{rep.Problems}
			}
			return nil
		},
	}
	f := cmd.Flags()
	lf.register(cmd)
	f.StringVar(&stream, "stream", "", "the stream to verify: Bronze table bronze/<stream> (required)")
	f.StringSliceVar(&brokers, "brokers", nil, "Kafka seed brokers to verify against (default: none, check the ledger only)")
	bindEnv(f, "brokers", "LAKECTL_BROKERS")
	f.DurationVar(&timeout, "timeout", 2*time.Minute, "bound on reading the broker")
	return cmd
}
