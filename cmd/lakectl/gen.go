package main

import (
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
		Long: `Send events shaped like the seed schema (event_id, user_id, event_type, amount,
timestamp) with realistic skew, and the given fractions of duplicates, late events and
malformed payloads. At the end it prints, as JSON, what was acknowledged: totals,
unique event ids, duplicates, late and malformed counts. It exits 1 if any event was
not acknowledged.`,
		Example: `  lakectl gen --brokers 127.0.0.1:9092 --topic events --count 100000 --duplicates 0.01 --late 0.02 --malformed 0.005
  lakectl gen --url http://127.0.0.1:8080/v1/streams/events/events --count 10000 --concurrency 8`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g := gen.New(cfg)
			var sum gen.Summary
			var err error
			switch {
			case url != "" && len(brokers) > 0:
				return usageErrorf(genTargetHint, "--url and --brokers: give one target")
			case url != "":
				sum, err = gen.ToHTTP(cmd.Context(), g, gen.HTTPTarget{URL: url, Token: token, Batch: batch, Concurrency: concurrency})
			case len(brokers) > 0 && topic != "":
				sum, err = gen.ToKafka(cmd.Context(), g, gen.KafkaTarget{Brokers: brokers, Topic: topic})
			case len(brokers) > 0:
				return usageErrorf(genTargetHint, "--brokers needs --topic")
			default:
				return usageErrorf(genTargetHint, "no target given")
			}
			if perr := writeJSON(cmd.OutOrStdout(), sum); perr != nil {
				return perr
			}
			if err == nil && sum.Failed > 0 {
				err = hinted(fmt.Errorf("%d of %d events were not acknowledged; the first: %s", sum.Failed, sum.Failed+sum.Sent, sum.FirstError),
					"see the ingest service's log for why; HTTP ingest with a pipeline accepts only the streams of lakectl.yaml")
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
	f.StringSliceVar(&brokers, "brokers", nil, "Kafka seed brokers (with --topic)")
	bindEnv(f, "brokers", "LAKECTL_BROKERS")
	f.StringVar(&topic, "topic", "", "Kafka topic to send to")
	f.StringVar(&url, "url", "", "HTTP ingest endpoint, http://HOST:PORT/v1/streams/STREAM/events")
	f.StringVar(&token, "token", "", "bearer token for --url")
	bindEnv(f, "token", "LAKECTL_TOKEN")
	f.IntVar(&batch, "batch", 100, "events per HTTP request")
	f.IntVar(&concurrency, "concurrency", 4, "concurrent HTTP clients")
	return cmd
}

// genTargetHint says how to name where gen sends.
const genTargetHint = "give --url http://HOST:PORT/v1/streams/STREAM/events, or --brokers HOST:PORT --topic TOPIC"
