package serve

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/lakectl/lakectl/internal/lru"
	"github.com/lakectl/lakectl/lake"
)

// Dashboards poll the same few views with the same ranges, and a table version's rows
// never change: an encoded response, kept by version and request, is the response for
// as long as that version is the latest, and a new version is a new key, so no entry
// is ever stale. This file keeps them, up to a byte bound.

// DefaultResultCacheBytes is HandlerConfig.ResultCacheBytes's default.
const DefaultResultCacheBytes = 64 << 20

// resultKey is what a response's bytes depend on: the table version (and its commit
// time, which tells a version of a table written anew from the old one's), the
// format and the request's range and limit.
type resultKey struct {
	table     string
	version   int64
	committed int64 // Unix milliseconds
	format    string
	from, to  string // RFC 3339 in UTC, "" for none
	limit     int64
}

func newResultKey(table string, snap *lake.Snapshot, format string, q tableQuery) resultKey {
	utc := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	return resultKey{table: table, version: snap.Version, committed: snap.Timestamp.UnixMilli(), format: format,
		from: utc(q.From), to: utc(q.To), limit: q.Limit}
}

func (k resultKey) String() string {
	return fmt.Sprintf("%q v%d@%d %q %q %q %d", k.table, k.version, k.committed, k.format, k.from, k.to, k.limit)
}

// resultCache is a least-recently-used cache of encoded responses whose bodies add up
// to at most max bytes. A body over a quarter of max is not kept, so that one large
// result does not flush the rest.
type resultCache struct {
	max    int64
	flight singleflight.Group // one query per key at a time
	kept   *lru.Cache[resultKey, []byte]
}

// newResultCache keeps up to max bytes; max <= 0 keeps nothing.
func newResultCache(max int64) *resultCache {
	return &resultCache{max: max, kept: lru.New[resultKey](max, func(b []byte) int64 { return int64(len(b)) })}
}

// load is k's body: from the cache, or from build, which runs once for the concurrent
// requests of one key (their context: the first one's, without its cancellation, so
// that a client going away fails no other). hit says whether the cache had it.
func (c *resultCache) load(ctx context.Context, k resultKey, build func(context.Context) ([]byte, error)) (body []byte, hit bool, err error) {
	if body, ok := c.get(k); ok {
		return body, true, nil
	}
	detached := context.WithoutCancel(ctx)
	ch := c.flight.DoChan(k.String(), func() (any, error) {
		if body, ok := c.get(k); ok { // a flight that just ended put it
			return body, nil
		}
		body, err := build(detached)
		if err == nil {
			c.put(k, body)
		}
		return body, err
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, false, r.Err
		}
		return r.Val.([]byte), false, nil
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
}

func (c *resultCache) get(k resultKey) ([]byte, bool) { return c.kept.Get(k) }

// put keeps body under k, unless it is over a quarter of the bound.
func (c *resultCache) put(k resultKey, body []byte) {
	if int64(len(body)) <= c.max/4 {
		c.kept.Add(k, body)
	}
}
