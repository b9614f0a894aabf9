package bronze

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/lakectl/lakectl/internal/wait"
	"github.com/lakectl/lakectl/lake"
)

// CompactConfig configures the compaction that the ingest service runs for the
// streams it writes. It is on by default: without it an hour of Bronze is one file
// per partition per flush (360 per partition at the default 10 s), which every
// reader of the hour pays for, one request per file on S3.
type CompactConfig struct {
	// Off turns the service's compaction off; `lakectl compact bronze` still works.
	Off bool
	// TargetSize is the size of compacted files. Default 128 MiB (DefaultCompactSize).
	TargetSize int64
	// Interval is how often the service looks for newly sealed hours, with up to a
	// quarter of it added at random so that replicas do not all start at once (they
	// would only lose to each other). The first look comes one tenth of it after
	// start. Default 5 min.
	Interval time.Duration
}

func (c CompactConfig) withDefaults() CompactConfig {
	if c.TargetSize <= 0 {
		c.TargetSize = DefaultCompactSize
	}
	if c.Interval <= 0 {
		c.Interval = 5 * time.Minute
	}
	return c
}

// compactLoop compacts the sealed hours of the service's streams until ctx ends.
// Failures are logged and retried at the next look: compaction is an optimisation,
// never a reason to stop ingesting, and a cancelled one leaves the table as before.
func (s *Service) compactLoop(ctx context.Context) error {
	cfg := s.cfg.Compact
	c := NewCompactor(s.cfg.Store, CompactOptions{
		TargetSize: cfg.TargetSize, Graces: s.cfg.Graces, Files: s.cfg.Files,
		Logger: s.cfg.Logger, Metrics: s.metrics,
	})
	pause := cfg.Interval / 10
	for {
		if err := wait.Sleep(ctx, pause+rand.N(cfg.Interval/4+1)); err != nil {
			return nil
		}
		pause = cfg.Interval
		for _, stream := range s.streams() {
			_, err := c.Sealed(ctx, stream)
			switch {
			case err == nil, errors.Is(err, lake.ErrNoTable):
			case ctx.Err() != nil:
				return nil
			default:
				s.log.Warn("compaction failed; retrying at the next look", "stream", stream, "err", err)
			}
		}
	}
}

// streams lists the streams this service writes: the topics' streams, the listed
// HTTP streams, and those HTTP has written to since start.
func (s *Service) streams() []string {
	var out []string
	for _, stream := range s.cfg.Topics {
		out = append(out, stream)
	}
	out = append(out, s.cfg.HTTP.Streams...)
	s.mu.Lock()
	for stream := range s.batchers {
		out = append(out, stream)
	}
	s.mu.Unlock()
	slices.Sort(out)
	return slices.Compact(out)
}
