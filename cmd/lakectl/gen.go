package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lakectl/lakectl/bronze/gen"
	"github.com/spf13/cobra"
)

func newGenCmd() *cobra.Command {
	var (
		cfg                gen.Config
		brokers            []string
		topic, url, token  string
		batch, concurrency int
	)
	cmd := &cobra.Command{
		Use:   "gen",
		Short: "Send a synthetic event stream to a Kafka topic or an HTTP ingest endpoint",
		Long: `gen sends events shaped like the seed schema (event_id, user_id, event_type, amount,
timestamp) with realistic skew, and the given fractions of duplicates, late events and
malformed payloads. At the end it prints, as JSON, what was acknowledged: totals,
unique event ids, duplicates, late and malformed counts.`,
		Example: `  lakectl gen --brokers 127.0.0.1:9092 --topic events --count 100000 --duplicates 0.01 --late 0.02 --malformed 0.005
  lakectl gen --url http://127.0.0.1:8080/v1/streams/events/events --count 10000 --concurrency 8`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g := gen.New(cfg)
			var sum gen.Summary
			var err error
			switch {
			case url != "" && len(brokers) > 0:
				return errors.New("give either --brokers and --topic, or --url, not both")
			case url != "":
				sum, err = gen.ToHTTP(cmd.Context(), g, gen.HTTPTarget{URL: url, Token: token, Batch: batch, Concurrency: concurrency})
			case len(brokers) > 0 && topic != "":
				sum, err = gen.ToKafka(cmd.Context(), g, gen.KafkaTarget{Brokers: brokers, Topic: topic})
			default:
				return errors.New("no target: give --brokers and --topic, or --url")
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			if perr := enc.Encode(sum); perr != nil {
				return perr
			}
			if err == nil && sum.Failed > 0 {
				err = fmt.Errorf("%d events were not acknowledged", sum.Failed)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.Int64Var(&cfg.Count, "count", 1000, "events to send")
	f.Float64Var(&cfg.Rate, "rate", 0, "events per second (0: as fast as possible)")
	f.Uint64Var(&cfg.Seed, "seed", 1, "random seed; the same seed sends the same stream")
	f.IntVar(&cfg.Users, "users", 10000, "distinct users (Zipf-skewed)")
	f.Float64Var(&cfg.DuplicateFraction, "duplicates", 0, "fraction of events resent unchanged")
	f.Float64Var(&cfg.LateFraction, "late", 0, "fraction of events 1 h to 3 days late")
	f.Float64Var(&cfg.MalformedFraction, "malformed", 0, "fraction of malformed payloads")
	f.StringSliceVar(&brokers, "brokers", envList("LAKECTL_BROKERS"), "Kafka seed brokers")
	f.StringVar(&topic, "topic", "", "Kafka topic")
	f.StringVar(&url, "url", "", "HTTP ingest endpoint (…/v1/streams/{stream}/events)")
	f.StringVar(&token, "token", envOr("LAKECTL_TOKEN", ""), "bearer token for --url")
	f.IntVar(&batch, "batch", 100, "events per HTTP request")
	f.IntVar(&concurrency, "concurrency", 4, "concurrent HTTP clients")
	return cmd
}
