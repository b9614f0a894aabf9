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
	// Group is the Kafka consumer group. Default "lakectl-bronze".
	Group string
	// Topics maps each Kafka topic to its stream (Bronze table). Required with Brokers.
	Topics map[string]string
	// StartAtEnd makes a partition that has no ledger entry yet start at its end
	// instead of its earliest offset (the default).
	StartAtEnd bool
	// InstanceID makes this member static (KIP-345): a restarted process with the
	// same ID takes its partitions back without a rebalance. Default: dynamic.
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

// DefaultGroup is the consumer group used when Config.Group is empty.
const DefaultGroup = "lakectl-bronze"

var streamName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,127}$`)

// ValidStream reports whether s may name a stream: lower-case letters, digits, _ and -.
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
	c.HTTP = c.HTTP.withDefaults()
	c.Compact = c.Compact.withDefaults()
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
			return c, fmt.Errorf("bronze: topic %s: invalid stream name %q (want %s)", topic, stream, streamName)
		}
	}
	if len(c.Brokers) == 0 && (c.HTTPAddr == "" || c.HTTPIngestOff) {
		return c, errors.New("bronze: nothing to ingest: give Kafka brokers and topics, or an HTTP address")
	}
	return c, nil
}
