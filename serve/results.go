package serve

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

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

	mu    sync.Mutex
	size  int64
	order *list.List // of *resultEntry, most recently used first
	items map[resultKey]*list.Element
}

type resultEntry struct {
	key  resultKey
	body []byte
}

// newResultCache keeps up to max bytes; max <= 0 keeps nothing.
func newResultCache(max int64) *resultCache {
	return &resultCache{max: max, order: list.New(), items: map[resultKey]*list.Element{}}
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

func (c *resultCache) get(k resultKey) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*resultEntry).body, true
}

// put keeps body under k, dropping the least recently used entries beyond the bound.
func (c *resultCache) put(k resultKey, body []byte) {
	n := int64(len(body))
	if n > c.max/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[k]; ok {
		return
	}
	c.items[k] = c.order.PushFront(&resultEntry{key: k, body: body})
	c.size += n
	for c.size > c.max {
		last := c.order.Back()
		e := last.Value.(*resultEntry)
		c.order.Remove(last)
		delete(c.items, e.key)
		c.size -= int64(len(e.body))
	}
}
