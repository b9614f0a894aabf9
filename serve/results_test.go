package serve

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
	"github.com/lakectl/lakectl/views"
)

// readCounter counts the reads a store serves.
type readCounter struct {
	lake.Store
	reads atomic.Int64
}

func (s *readCounter) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	s.reads.Add(1)
	return s.Store.Get(ctx, key)
}

func (s *readCounter) GetRange(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	s.reads.Add(1)
	return s.Store.GetRange(ctx, key, off, n)
}

func (s *readCounter) List(ctx context.Context, prefix, after string) ([]lake.ObjectInfo, error) {
	s.reads.Add(1)
	return s.Store.List(ctx, prefix, after)
}

func (s *readCounter) Stat(ctx context.Context, key string) (lake.ObjectInfo, error) {
	s.reads.Add(1)
	return s.Store.Stat(ctx, key)
}

// clock is a time that a test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Within VersionTTL a poll reads nothing from the store, a 304 included, and a full
// load of a version already served runs no query; past it, a commit shows, with the
// new version's rows under the new ETag.
func TestServeCachesVersionsAndResults(t *testing.T) {
	l, _ := servedLake(t, Auth{})
	vs, err := views.Load(t.Context(), l.p, testEngine)
	if err != nil {
		t.Fatal(err)
	}
	store := &readCounter{Store: l.store()}
	clk := &clock{t: time.Now()}
	const ttl = 5 * time.Second
	h := NewHandler(HandlerConfig{
		Store: store, Cache: cache.New(store, filepath.Join(t.TempDir(), "cache"), 0), Pipeline: l.p, Views: vs,
		Engine: testEngine, VersionTTL: ttl, Now: clk.now,
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	url := srv.URL + "/v1/views/hourly_trends"
	loads := func(result string) float64 {
		var m dto.Metric
		if err := h.results.WithLabelValues(result).Write(&m); err != nil {
			t.Fatal(err)
		}
		return m.GetCounter().GetValue()
	}

	first, body := get(t, url)
	etag := first.Header.Get("ETag")
	if first.StatusCode != 200 || len(jsonRows(t, body)) == 0 || loads("miss") != 1 {
		t.Fatalf("first load: %s, %d misses: %s", first.Status, int(loads("miss")), body)
	}
	before := store.reads.Load()
	again, body2 := get(t, url)
	if again.StatusCode != 200 || again.Header.Get("ETag") != etag || string(body2) != string(body) || loads("hit") != 1 {
		t.Errorf("second load: %s %s, %d hits; want the same ETag and body from the cache", again.Status, again.Header.Get("ETag"), int(loads("hit")))
	}
	if resp, _ := get(t, url, "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match %s: %s, want 304", etag, resp.Status)
	}
	if n := store.reads.Load() - before; n != 0 {
		t.Errorf("a load and a 304 within VersionTTL read the store %d times, want none", n)
	}
	if get(t, url+"?format=csv"); loads("miss") != 2 {
		t.Errorf("CSV of the same version: %d misses, want 2 (another key)", int(loads("miss")))
	}

	// A new version: every file of the view removed, so it has no rows.
	tb := lake.NewTable(l.store(), views.Root("hourly_trends"))
	snap, err := tb.Latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	tx := tb.Begin(snap)
	for _, a := range snap.Files() {
		tx.Remove(a.RemoveAt(time.Now()))
	}
	if _, err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	if resp, _ := get(t, url, "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
		t.Errorf("within VersionTTL of the commit: %s, want the documented stale 304", resp.Status)
	}
	clk.add(ttl)
	resp, body := get(t, url, "If-None-Match", etag)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == etag || len(jsonRows(t, body)) != 0 {
		t.Errorf("VersionTTL after the commit: %s, ETag %s, %s; want 200, a new ETag and the new version's no rows", resp.Status, resp.Header.Get("ETag"), body)
	}
}

// The cache keeps the most recently used bodies within its byte bound, and a body
// over a quarter of the bound not at all.
func TestResultCacheBound(t *testing.T) {
	c := newResultCache(100)
	key := func(v int64) resultKey { return resultKey{table: "views.v", version: v, format: formatJSON} }
	body := func(n int) []byte { return []byte(strings.Repeat("x", n)) }
	for v := range int64(4) {
		c.put(key(v), body(25))
	}
	c.get(key(0)) // now the most recently used
	c.put(key(4), body(25))
	for v, want := range []bool{true, false, true, true, true} {
		if _, ok := c.get(key(int64(v))); ok != want {
			t.Errorf("v%d kept: %v, want %v", v, ok, want)
		}
	}
	if n := c.kept.Len(); n != 4 {
		t.Errorf("%d bodies of 25 bytes kept under a bound of 100, want 4", n)
	}
	c.put(key(9), body(26))
	if _, ok := c.get(key(9)); ok {
		t.Error("a body over a quarter of the bound was kept")
	}
}

// Concurrent loads of one key run its query once and all get its body.
func TestResultCacheOneQueryPerKey(t *testing.T) {
	c := newResultCache(DefaultResultCacheBytes)
	var builds atomic.Int64
	release := make(chan struct{})
	var wg sync.WaitGroup
	bodies := make([]string, 20)
	for i := range bodies {
		wg.Go(func() {
			b, _, err := c.load(t.Context(), resultKey{table: "views.v", version: 1}, func(context.Context) ([]byte, error) {
				builds.Add(1)
				<-release
				return []byte("rows"), nil
			})
			if err != nil {
				t.Error(err)
			}
			bodies[i] = string(b)
		})
	}
	for builds.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if n := builds.Load(); n != 1 {
		t.Errorf("%d queries, want 1", n)
	}
	for i, b := range bodies {
		if b != "rows" {
			t.Errorf("load %d got %q", i, b)
		}
	}
}
