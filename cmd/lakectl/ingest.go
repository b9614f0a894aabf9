package main

import (
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/lakectl/lakectl/bronze"
	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake/stores"
	"github.com/lakectl/lakectl/pipeline"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
)

func newIngestCmd() *cobra.Command {
	var (
		lf                                                lakeFlags
		group, httpAddr, token, spool, logLevel, instance string
		clockOffset                                       time.Duration
		brokers, topics, httpStreams                      []string
		flushSize, memLimit, compactSize                  string
		flushInterval, grace, session, compactEvery       time.Duration
		startAtEnd, compact                               bool
	)
	cmd := &cobra.Command{
		Use:   "ingest",
		Short: "Append raw events from Kafka and HTTP to Bronze tables, exactly once",
		Long: `Run the ingest service until SIGTERM or SIGINT, then commit what it holds and
exit 0.

Kafka: one member of the consumer group; any number of replicas may run. Positions
come from the offset ledger in each Bronze table, so a restart, a crash or a
rebalance neither loses nor duplicates a record.

HTTP: POST /v1/streams/{stream}/events with NDJSON; the answer comes after the commit
that holds the events. /metrics and /healthz are served on the same address.

With a pipeline (--pipeline DIR, $LAKECTL_PIPELINE, or a lakectl.yaml in the working
directory), the store, kafka (brokers, group, topics), http.listen and the streams
(their grace and flush interval; HTTP then accepts only declared streams) come from
lakectl.yaml. The flags below name the LAKECTL_* variable that stands for each; a
flag wins over its variable, a variable over the file. --brokers= turns off the
file's Kafka.

Logs are JSON lines on stderr.`,
		Example: `  lakectl ingest --lake ./lake --brokers 127.0.0.1:9092 --topic events=events --http :8080
  lakectl ingest --pipeline ./demo --http 127.0.0.1:8080 --brokers=`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			logger, err := ingestLogger(logLevel)
			if err != nil {
				return err
			}
			if os.Getenv("GOMEMLIMIT") == "" {
				limit, err := parseBytes(memLimit)
				if err != nil {
					return fmt.Errorf("--memory-limit: %w", err)
				}
				// A soft limit makes the GC collect before the heap doubles, which
				// keeps RSS near what ingest really holds (fetches and row groups).
				debug.SetMemoryLimit(limit)
			}
			// The limit in force (the flag's or $GOMEMLIMIT) also sizes ingest's
			// buffers, so that they fit in it.
			memoryLimit := debug.SetMemoryLimit(-1)
			if memoryLimit == math.MaxInt64 {
				memoryLimit = 0 // GOMEMLIMIT=off
			}
			size, err := parseBytes(flushSize)
			if err != nil {
				return fmt.Errorf("--flush-size: %w", err)
			}
			target, err := parseBytes(compactSize)
			if err != nil {
				return fmt.Errorf("--compact-size: %w", err)
			}
			topicMap := map[string]string{}
			for _, t := range topics {
				topic, stream, ok := strings.Cut(t, "=")
				if !ok {
					stream = topic
				}
				topicMap[topic] = stream
			}
			fl := cmd.Flags()
			reg := prometheus.NewRegistry()
			reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
			l, err := lf.open(cmd, pipeline.Overrides{KafkaGroup: changed(fl, "group", group), Listen: changed(fl, "http", httpAddr),
				Grace: graceOverride(cmd, grace)},
				stores.Options{Logger: logger, Registerer: reg})
			if err != nil {
				return err
			}
			if p := l.pipeline; p != nil {
				s := ingestSettings{group: group, httpAddr: httpAddr, brokers: brokers,
					httpStreams: httpStreams, topics: topicMap, flushInterval: flushInterval}
				applyPipeline(cmd, p, &s)
				group, httpAddr, brokers = s.group, s.httpAddr, s.brokers
				httpStreams, topicMap, flushInterval = s.httpStreams, s.topics, s.flushInterval
			}
			now := time.Now
			if clockOffset != 0 {
				// Testing only: see the flag.
				now = func() time.Time { return time.Now().Add(clockOffset) }
				logger.Warn("ingest clock shifted; ingest hours and sealing marks are not the wall clock", "offset", clockOffset)
			}
			svc, err := bronze.New(bronze.Config{
				Store: l.store, Brokers: brokers, Group: group, Topics: topicMap, StartAtEnd: startAtEnd,
				InstanceID: instance, SessionTimeout: session, MemoryLimit: memoryLimit,
				FlushSize: size, FlushInterval: flushInterval, Graces: sealGraces(l.pipeline, grace),
				Files:    bronze.FileOptions{SpoolDir: spool},
				HTTPAddr: httpAddr,
				HTTP:     bronze.HTTPConfig{Token: token, Streams: httpStreams},
				Compact:  bronze.CompactConfig{Off: !compact, TargetSize: target, Interval: compactEvery},
				Logger:   logger, Registerer: reg, Now: now,
			})
			if err != nil {
				return err
			}
			if err := svc.Run(ctx); err != nil {
				return err
			}
			logger.Info("ingest stopped: everything received was committed")
			return nil
		},
	}
	f := cmd.Flags()
	lf.register(cmd)
	f.StringSliceVar(&brokers, "brokers", nil, "Kafka seed brokers (host:port, comma-separated); --brokers= for none")
	f.StringVar(&group, "group", bronze.DefaultGroup, "Kafka consumer group")
	f.StringArrayVar(&topics, "topic", nil, "TOPIC=STREAM to ingest (repeatable; STREAM defaults to TOPIC)")
	f.StringVar(&instance, "instance-id", "", "static group member id: a restart with the same id resumes without a rebalance")
	f.DurationVar(&session, "session-timeout", 45*time.Second, "group session timeout")
	f.BoolVar(&startAtEnd, "start-at-end", false, "partitions without a ledger entry start at their end, not their beginning")
	f.StringVar(&httpAddr, "http", "", "address for HTTP ingest, /metrics and /healthz, e.g. :8080 (default: no HTTP)")
	f.StringVar(&token, "token", "", "bearer token that HTTP ingest requires (default: none)")
	f.StringArrayVar(&httpStreams, "http-stream", nil, "stream that accepts HTTP events (repeatable; default: the pipeline's streams, else any)")
	f.StringVar(&flushSize, "flush-size", "128MiB", "flush a file at this many uncompressed bytes")
	f.DurationVar(&flushInterval, "flush-interval", 10*time.Second, "flush files this old")
	f.DurationVar(&grace, "grace", layout.DefaultGrace, "how long after an hour its marks must pass for it to be sealed, for every stream (default: each stream's grace in lakectl.yaml, else 5m)")
	f.BoolVar(&compact, "compact", true, "compact sealed hours of the ingested streams into large files (--compact=false leaves it to 'lakectl compact bronze')")
	f.StringVar(&compactSize, "compact-size", "128MiB", "size of compacted files")
	f.DurationVar(&compactEvery, "compact-interval", 5*time.Minute, "how often to look for newly sealed hours to compact")
	f.StringVar(&spool, "spool-dir", "", "where files are encoded before upload (default: the temp dir)")
	f.StringVar(&memLimit, "memory-limit", "256MiB", "soft memory limit of the Go runtime ($GOMEMLIMIT wins); also sizes the fetch and row-group buffers to fit in it")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	for flag, variable := range map[string]string{
		"brokers": "LAKECTL_BROKERS", "group": "LAKECTL_GROUP", "topic": "LAKECTL_TOPICS",
		"instance-id": "LAKECTL_INSTANCE_ID", "session-timeout": "LAKECTL_SESSION_TIMEOUT",
		"http": "LAKECTL_HTTP", "token": "LAKECTL_TOKEN", "flush-size": "LAKECTL_FLUSH_SIZE",
		"flush-interval": "LAKECTL_FLUSH_INTERVAL", "grace": "LAKECTL_GRACE", "compact": "LAKECTL_COMPACT",
		"compact-size": "LAKECTL_COMPACT_SIZE", "compact-interval": "LAKECTL_COMPACT_INTERVAL",
		"spool-dir": "LAKECTL_SPOOL_DIR", "log-level": "LAKECTL_LOG_LEVEL",
	} {
		bindEnv(f, flag, variable)
	}
	// Testing only, hidden: shifts the clock that stamps ingest times and sealing
	// marks. A run with a negative offset puts events into past ingest hours; a later
	// run with the real clock then seals them, so end-to-end tests and the demo
	// exercise the real sealing code without waiting an hour.
	f.DurationVar(&clockOffset, "clock-offset", 0, "testing: shift the ingest clock by this much (e.g. -2h)")
	bindEnv(f, "clock-offset", "LAKECTL_CLOCK_OFFSET")
	f.MarkHidden("clock-offset")
	return cmd
}

func ingestLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}

// parseBytes reads sizes like 134217728, 128MiB, 64MB or 512KiB.
func parseBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			if err != nil || n < 0 {
				return 0, fmt.Errorf("size %q: want a number and a unit such as 128MiB", s)
			}
			return int64(n * float64(u.mult)), nil
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("size %q: want a number and a unit such as 128MiB", s)
	}
	return n, nil
}
