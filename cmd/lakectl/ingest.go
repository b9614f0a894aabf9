package main

import (
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/lakectl/lakectl/bronze"
	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake/stores"
	"github.com/lakectl/lakectl/pipeline"
)

func newIngestCmd() *cobra.Command {
	var (
		lf                                                lakeFlags
		group, httpAddr, token, spool, logLevel, instance string
		clockOffset                                       time.Duration
		brokers, topics, httpStreams                      []string
		flushSize, memLimit, compactSize                  string
		flushInterval, grace, session, compactEvery       time.Duration
		httpTimeouts                                      bronze.HTTPConfig
		shutdownTimeout, rebalanceTimeout                 time.Duration
		startAtEnd, compact                               bool
	)
	cmd := &cobra.Command{
		Use:   "ingest",
		Short: "Append raw events from Kafka and HTTP to Bronze tables, exactly once",
		Long: `Run the ingest service until SIGTERM or SIGINT, then commit what it holds and
exit 0. The shutdown takes at most --shutdown-timeout: what is not committed by then
is dropped (Kafka records are read again at the next start; the HTTP requests that
held it get 503) and ingest exits 1. A second signal exits at once.

An error that retrying cannot fix (a Bronze log that does not parse, a Delta feature
lakectl does not support, permission denied, a member fenced by another with its
--instance-id) stops ingest: pending HTTP requests get 503, what can be committed
is, and ingest exits 1 with the error. Outages of the store or the broker (network
errors, 5xx, timeouts) are waited out with backoff.

Kafka: one member of the consumer group; any number of replicas may run. Positions
come from the offset ledger in each Bronze table, so a restart, a crash or a
rebalance neither loses nor duplicates a record. Each process is a static member
(--instance-id, by default derived from the host, the group and the lake, plus a
slot that tells replicas on one host apart): restarted after a crash, it takes its
partitions back at once; stopped cleanly, it leaves the group and the others take
over at once.

HTTP: POST /v1/streams/{stream}/events with NDJSON; the answer comes after the commit
that holds the events. /metrics and /healthz are served on the same address.

With a pipeline (--pipeline DIR, $LAKECTL_PIPELINE, or a lakectl.yaml in the working
directory), the store, kafka (brokers, group, topics), http (listen, timeouts) and the streams
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
				limit, err := pipeline.ParseBytes(memLimit)
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
			size, err := pipeline.ParseBytes(flushSize)
			if err != nil {
				return fmt.Errorf("--flush-size: %w", err)
			}
			target, err := pipeline.ParseBytes(compactSize)
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
					httpStreams: httpStreams, topics: topicMap, flushInterval: flushInterval, httpTimeouts: httpTimeouts}
				applyPipeline(cmd, p, &s)
				httpTimeouts = s.httpTimeouts
				group, httpAddr, brokers = s.group, s.httpAddr, s.brokers
				httpStreams, topicMap, flushInterval = s.httpStreams, s.topics, s.flushInterval
			}
			if instance == "" && len(brokers) > 0 {
				claim, err := claimInstanceID(group, l.url)
				if err != nil {
					return err
				}
				defer claim.Release()
				instance = claim.ID
				logger.Info("static group member", "instance_id", instance, "slot", claim.Slot)
			}
			now := time.Now
			if clockOffset != 0 {
				// Testing only: see the flag.
				now = func() time.Time { return time.Now().Add(clockOffset) }
				logger.Warn("ingest clock shifted; ingest hours and sealing marks are not the wall clock", "offset", clockOffset)
			}
			httpCfg := httpTimeouts
			httpCfg.Token, httpCfg.Streams = token, httpStreams
			svc, err := bronze.New(bronze.Config{
				Store: l.store, Brokers: brokers, Group: group, Topics: topicMap, StartAtEnd: startAtEnd,
				InstanceID: instance, SessionTimeout: session, MemoryLimit: memoryLimit,
				FlushSize: size, FlushInterval: flushInterval, Graces: sealGraces(l.pipeline, grace),
				Files:    bronze.FileOptions{SpoolDir: spool},
				HTTPAddr: httpAddr,
				HTTP:     httpCfg,
				Compact:  bronze.CompactConfig{Off: !compact, TargetSize: target, Interval: compactEvery},
				Logger:   logger, Registerer: reg, Now: now, ShutdownTimeout: shutdownTimeout,
				KafkaOptions: kafkaOptions(rebalanceTimeout),
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
	f.StringVar(&instance, "instance-id", "", "static group member id: a restart after a crash takes its partitions back at once (default: HOST-HASH-SLOT, from the host name, a hash of the group and lake, and the replica's slot on this host)")
	f.DurationVar(&session, "session-timeout", 45*time.Second, "group session timeout")
	f.BoolVar(&startAtEnd, "start-at-end", false, "partitions without a ledger entry start at their end, not their beginning")
	f.StringVar(&httpAddr, "http", "", "address for HTTP ingest, /metrics and /healthz, e.g. :8080 (default: no HTTP)")
	f.StringVar(&token, "token", "", "bearer token that HTTP ingest requires; /metrics and /healthz stay open (default: none)")
	f.DurationVar(&httpTimeouts.HeaderTimeout, "http-header-timeout", 10*time.Second, "HTTP: time to receive a request's headers")
	f.DurationVar(&httpTimeouts.BodyTimeout, "http-body-timeout", 10*time.Second, "HTTP: time to receive a whole body after its headers (408 beyond, nothing stored)")
	f.DurationVar(&httpTimeouts.StallTimeout, "http-stall-timeout", 5*time.Second, "HTTP: longest pause in a body (408 beyond, nothing stored)")
	f.DurationVar(&httpTimeouts.IdleTimeout, "http-idle-timeout", time.Minute, "HTTP: close a keep-alive connection idle this long")
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
	f.DurationVar(&shutdownTimeout, "shutdown-timeout", bronze.DefaultShutdownTimeout, "how long a shutdown (a signal, or an error that stops ingest) may take to commit what ingest holds")
	for flag, variable := range map[string]string{
		"brokers": "LAKECTL_BROKERS", "group": "LAKECTL_GROUP", "topic": "LAKECTL_TOPICS",
		"instance-id": "LAKECTL_INSTANCE_ID", "session-timeout": "LAKECTL_SESSION_TIMEOUT",
		"http": "LAKECTL_HTTP", "token": "LAKECTL_TOKEN", "flush-size": "LAKECTL_FLUSH_SIZE",
		"flush-interval": "LAKECTL_FLUSH_INTERVAL", "grace": "LAKECTL_GRACE", "compact": "LAKECTL_COMPACT",
		"compact-size": "LAKECTL_COMPACT_SIZE", "compact-interval": "LAKECTL_COMPACT_INTERVAL",
		"spool-dir": "LAKECTL_SPOOL_DIR", "log-level": "LAKECTL_LOG_LEVEL",
		"http-header-timeout": "LAKECTL_HTTP_HEADER_TIMEOUT", "http-body-timeout": "LAKECTL_HTTP_BODY_TIMEOUT",
		"http-stall-timeout": "LAKECTL_HTTP_STALL_TIMEOUT", "http-idle-timeout": "LAKECTL_HTTP_IDLE_TIMEOUT",
		"shutdown-timeout": "LAKECTL_SHUTDOWN_TIMEOUT",
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
	// Testing only, hidden: how long the group waits for its members to rejoin in a
	// rebalance (franz-go's default 60 s). With it and --session-timeout long, a
	// test tells a restart that takes its partitions back at once from one that
	// waits for the group to give up on the dead member.
	f.DurationVar(&rebalanceTimeout, "rebalance-timeout", 0, "testing: the group's rebalance timeout")
	f.MarkHidden("rebalance-timeout")
	return cmd
}

// kafkaOptions are the franz-go options of the hidden testing flags.
func kafkaOptions(rebalanceTimeout time.Duration) []kgo.Opt {
	if rebalanceTimeout <= 0 {
		return nil
	}
	return []kgo.Opt{kgo.RebalanceTimeout(rebalanceTimeout)}
}

func ingestLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}

// claimInstanceID claims the default --instance-id: stable for this host, group and
// lake, and distinct for each replica on the host (see bronze.ClaimInstanceID). The
// locks live in the temp directory, which every replica on the host shares.
func claimInstanceID(group, lakeURL string) (*bronze.InstanceClaim, error) {
	host, err := os.Hostname()
	if err != nil {
		return nil, hinted(fmt.Errorf("default --instance-id: host name: %w", err), "give --instance-id")
	}
	return bronze.ClaimInstanceID(filepath.Join(os.TempDir(), "lakectl"), host, group+"\n"+lakeURL)
}
