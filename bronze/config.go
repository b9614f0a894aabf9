package bronze

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Config configures the ingest service. Zero fields take the documented defaults,
// so a Config built by the pipeline loader or by flags only sets what it knows.
type Config struct {
	// Store is the lake; Bronze tables live at bronze/<stream>. Required.
	Store lake.Store

	// Brokers are the Kafka seed brokers. Empty disables Kafka ingest.
	Brokers []string
	// Group is the Kafka consumer group. Default "lakectl" (DefaultGroup), as in
	// lakectl.yaml.
	Group string
	// Topics maps each Kafka topic to its stream (Bronze table). Required with Brokers.
	Topics map[string]string
	// StartAtEnd makes a partition that has no ledger entry yet start at its end
	// instead of its earliest offset (the default).
	StartAtEnd bool
	// InstanceID makes this member static (KIP-345): a process restarted after a
	// crash with the same ID takes its partitions back at once, without waiting for
	// the group to expire the dead member, and without a rebalance. A clean stop
	// leaves the group all the same, so the other members take over at once. Two
	// live members must never share an ID (the second fences the first, and the
	// first then stops with an error). ClaimInstanceID makes a default that holds to
	// that on one host; `lakectl ingest` uses it. Empty: a dynamic member.
	InstanceID string
	// SessionTimeout is how long the group waits for a silent member before it
	// moves its partitions. Default franz-go's 45 s.
	SessionTimeout time.Duration
	// MaxPollRecords bounds the records handled per poll. Default 10000.
	MaxPollRecords int
	// FetchMaxBytes bounds what the client buffers per fetch, and so memory
	// (records are held decompressed, about three times this). Default 8 MiB, or
	// a 32nd of MemoryLimit when that is smaller (at least 1 MiB).
	FetchMaxBytes int32
	// MemoryLimit is the memory the process may use (`lakectl ingest
	// --memory-limit`, the Go runtime's soft limit). It sizes the defaults of
	// FetchMaxBytes and BufferBytes, so that what ingest buffers fits in the limit
	// whatever the input rate: a soft limit alone only makes the GC work harder
	// once the buffers outgrow it. Zero: no limit; the fixed defaults apply.
	MemoryLimit int64
	// KafkaOptions are extra franz-go options, applied last.
	KafkaOptions []kgo.Opt

	// FlushSize flushes once an open file holds this many uncompressed record
	// bytes. Default 128 MiB.
	FlushSize int64
	// FlushInterval flushes files this old. Default 10 s.
	FlushInterval time.Duration
	// Graces is the sealing rule: how long after an hour every mark of a stream must
	// have passed for the hour to count as sealed (see layout.Graces). The service
	// times its idle-mark commits by it and compacts only the hours it seals.
	// Default layout.DefaultGrace for every stream.
	Graces layout.Graces
	// Files bounds row groups and names the spool directory.
	Files FileOptions
	// BufferBytes bounds the uncompressed bytes held in open row groups across all
	// of a member's files: with many partitions each file cuts its row groups at
	// BufferBytes / assigned partitions (never above Files.RowGroupBytes, never
	// below 1 MiB). Default 64 MiB, or an eighth of MemoryLimit when that is
	// smaller (at least 4 MiB).
	BufferBytes int64

	// HTTPAddr is where /metrics, /healthz and, unless HTTPIngestOff, the HTTP
	// ingest endpoint listen. Empty: no HTTP server.
	HTTPAddr string
	// HTTPIngestOff serves only /metrics and /healthz on HTTPAddr.
	HTTPIngestOff bool
	// HTTP configures the HTTP ingest endpoint.
	HTTP HTTPConfig

	// Compact configures the compaction of sealed hours (on by default).
	Compact CompactConfig

	// ShutdownTimeout bounds the shutdown that follows the end of Run's context or
	// a permanent error: committing the open files and queued HTTP requests, the
	// last marks, leaving the group. What is not committed by then is dropped (and
	// read again from Kafka, or not acknowledged over HTTP). Default 30 s.
	ShutdownTimeout time.Duration

	// Logger receives structured logs. Default slog.Default().
	Logger *slog.Logger
	// Registerer receives the metrics. Nil: metrics are kept but not registered.
	Registerer prometheus.Registerer

	// Now is the clock that stamps ingest times and sealing marks, and so decides
	// ingest hours. Default time.Now. End-to-end tests (and `lakectl ingest`'s
	// hidden --clock-offset) shift it, so that events land in past hours and a later
	// run with the real clock seals them, through the real sealing code.
	Now func() time.Time
}

// DefaultShutdownTimeout is Config.ShutdownTimeout's default.
const DefaultShutdownTimeout = 30 * time.Second

// DefaultGroup is the consumer group used when Config.Group is empty.
const DefaultGroup = "lakectl"

// streamName is the pipeline's rule for names (pipeline.CheckName), bounded in
// length: a stream names a Bronze table and becomes a SQL identifier, so ingest
// creates no table that lakectl.yaml could not declare.
var streamName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,127}$`)

// StreamNameHint says what a stream name looks like.
const StreamNameHint = "lower-case letters, digits and _, starting with a letter, at most 128 characters (e.g. events_eu)"

// ValidStream reports whether s may name a stream: see StreamNameHint.
func ValidStream(s string) bool { return streamName.MatchString(s) }

func (c Config) withDefaults() (Config, error) {
	if c.Store == nil {
		return c, errors.New("bronze: Config.Store is required")
	}
	if c.Group == "" {
		c.Group = DefaultGroup
	}
	if c.MaxPollRecords <= 0 {
		c.MaxPollRecords = 10000
	}
	if c.FetchMaxBytes <= 0 {
		c.FetchMaxBytes = 8 << 20
		if c.MemoryLimit > 0 {
			c.FetchMaxBytes = int32(min(max(c.MemoryLimit/32, 1<<20), 8<<20))
		}
	}
	if c.FlushSize <= 0 {
		c.FlushSize = 128 << 20
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = 10 * time.Second
	}
	c.Files = c.Files.withDefaults()
	if c.BufferBytes <= 0 {
		c.BufferBytes = 64 << 20
		if c.MemoryLimit > 0 {
			c.BufferBytes = min(max(c.MemoryLimit/8, 4<<20), 64<<20)
		}
	}
	for name, d := range map[string]time.Duration{"HeaderTimeout": c.HTTP.HeaderTimeout, "BodyTimeout": c.HTTP.BodyTimeout,
		"StallTimeout": c.HTTP.StallTimeout, "IdleTimeout": c.HTTP.IdleTimeout} {
		if d < 0 {
			return c, fmt.Errorf("bronze: HTTP %s %s: want a positive duration, or 0 for the default", name, d)
		}
	}
	c.HTTP = c.HTTP.withDefaults()
	c.Compact = c.Compact.withDefaults()
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if len(c.Brokers) > 0 && len(c.Topics) == 0 {
		return c, errors.New("bronze: Kafka brokers given but no topics")
	}
	for topic, stream := range c.Topics {
		if !ValidStream(stream) {
			return c, fmt.Errorf("bronze: topic %s: invalid stream name %q: want %s; map the topic to one (--topic %s=NAME)", topic, stream, StreamNameHint, topic)
		}
	}
	for _, stream := range c.HTTP.Streams {
		if !ValidStream(stream) {
			return c, fmt.Errorf("bronze: HTTP stream %q: invalid stream name: want %s", stream, StreamNameHint)
		}
	}
	if len(c.Brokers) == 0 && (c.HTTPAddr == "" || c.HTTPIngestOff) {
		return c, errors.New("bronze: nothing to ingest: give Kafka brokers and topics, or an HTTP address")
	}
	return c, nil
}
