package serve

import (
	"context"
	"sync"
	"time"

	"github.com/lakectl/lakectl/lake"
)

// Loading a table's latest snapshot reads its log: a listing and the commits since
// the checkpoint, round trips on an object store. Dashboards poll many times a
// second, mostly to hear "not modified", so each table's latest snapshot is taken as
// the latest for a short time after it was read.

// DefaultVersionTTL is HandlerConfig.VersionTTL's default.
const DefaultVersionTTL = time.Second

// latestCache holds each table's latest snapshot for ttl from the start of the load
// that read it. A commit therefore shows in responses at most ttl after it ends: a
// load that starts after the commit sees it, and every snapshot read before is
// dropped by then. Loads of one table do not overlap: the requests that find its
// snapshot expired wait for one load.
type latestCache struct {
	ttl time.Duration
	now func() time.Time

	mu     sync.Mutex
	tables map[string]*latestEntry // by table root: the served tables, a fixed set
}

type latestEntry struct {
	turn   chan struct{} // held while the snapshot is read or loaded
	snap   *lake.Snapshot
	loaded time.Time // when the load that read snap began
}

// newLatestCache holds snapshots for ttl; ttl <= 0 loads on every request.
func newLatestCache(ttl time.Duration, now func() time.Time) *latestCache {
	return &latestCache{ttl: ttl, now: now, tables: map[string]*latestEntry{}}
}

// latest is tb's latest snapshot as of at most ttl ago; lake.ErrNoTable when it has
// none (not kept: a table may appear at any time).
func (c *latestCache) latest(ctx context.Context, tb *lake.Table) (*lake.Snapshot, error) {
	if c.ttl <= 0 {
		return tb.Latest(ctx)
	}
	c.mu.Lock()
	e, ok := c.tables[tb.Root()]
	if !ok {
		e = &latestEntry{turn: make(chan struct{}, 1)}
		c.tables[tb.Root()] = e
	}
	c.mu.Unlock()
	select {
	case e.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-e.turn }()
	if e.snap != nil && c.now().Sub(e.loaded) < c.ttl {
		return e.snap, nil
	}
	start := c.now()
	snap, err := tb.Latest(ctx)
	if err != nil {
		return nil, err
	}
	e.snap, e.loaded = snap, start
	return snap, nil
}
