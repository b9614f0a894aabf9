// Package cache keeps local copies of lake objects so that readers which only open local
// files (DuckDB without httpfs) can read a remote store.
//
//	c := cache.New(store, "/var/cache/lakectl", 20<<30)
//	path, err := c.Path(ctx, "silver/events/event_date=2026-11-21/part-1.zstd.parquet")
//	// open path with DuckDB's read_parquet
//
// Delta data files are immutable, so an object is downloaded once and never
// invalidated: the cache is keyed by object key alone. One cache directory must
// therefore serve one store: DirFor(storeURL) gives each store its own. A download is
// written to a temporary file and linked into place, so a crash never leaves a partial
// file under a final name. Concurrent requests for the same key share one download.
// The total size is bounded, least recently used objects are evicted first, and a new
// process finds what earlier ones left: a hit straight from the directory, the whole
// index at its first miss, before it makes room.
//
// Every lakectl process on a lake shares its directory. A file that one process has
// acquired is held with a shared flock, and eviction in any process skips held files
// (see lock.go; on platforms without flock, pins protect files only within their own
// process). The size bound is best-effort across processes: each process counts the
// files it found at start plus those it downloaded or adopted since, so files other
// processes add meanwhile are not counted, two processes may both drop the same
// evicted file from their counts, and files held elsewhere are not evicted. With n
// processes at once the directory holds at most about n times the bound.
//
// For a lake.LocalStore the cache copies nothing: Path returns the store's own file.
package cache

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/lakectl/lakectl/lake"
)

// Defaults used by New for arguments left at their zero value.
const (
	// DefaultMaxBytes bounds the cache when New is given maxBytes <= 0: 10 GiB.
	DefaultMaxBytes int64 = 10 << 30
	// DefaultDirName is the directory under os.UserCacheDir (or os.TempDir when there
	// is none) used when New is given an empty dir.
	DefaultDirName = "lakectl"
)

// tmpPrefix marks downloads in progress; a new process deletes what a crash left.
const tmpPrefix = ".tmp-"

// staleTmpAge is how long a temporary file must have gone unwritten before a new
// process takes it for a crash's leftover. Every command shares the default directory,
// so a younger one may be another process's download in flight, which writes to it as
// the bytes arrive.
const staleTmpAge = time.Hour

// Cache maps object keys of one store to local file paths. It is safe for concurrent
// use by several goroutines. Several processes may share a directory (every lakectl
// command uses the default one): downloads are linked into place whole, a process
// deletes only temporary files that have not been written for an hour, and a file that
// any process has acquired is not evicted by another until it is released.
type Cache struct {
	store    lake.Store
	local    lake.LocalStore // set when store has its own local files
	dir      string
	maxBytes int64
	log      *slog.Logger
	metrics  *metrics
	// indexFirst rebuilds the index at the first request rather than the first miss.
	indexFirst bool

	flight singleflight.Group

	mu      sync.Mutex
	entries map[string]*list.Element // file name -> element of lru holding *entry
	lru     *list.List               // front is the most recently used
	used    int64
	stats   Stats
	loaded  bool // index rebuilt from dir
	loadErr error
}

type entry struct {
	name  string // file name in dir
	size  int64
	pins  int      // Acquire holders; a pinned entry is never evicted
	held  *os.File // open with a shared lock while pins > 0, so other processes keep it too
	atime time.Time
}

// Stats counts cache events since New.
type Stats struct {
	Hits      int64 // requests served from a file already in the cache
	Misses    int64 // requests that needed a download (shared downloads count each request)
	Downloads int64 // objects downloaded from the store
	Evictions int64 // files removed to stay under the size bound (by this process)
	Bytes     int64 // bytes currently held

	DownloadedBytes int64 // the size of the objects downloaded
}

// DirFor returns the default cache directory of the store at storeURL: one directory
// per store under DefaultDirName in the user's cache directory, because objects are
// cached by key alone and two lakes may hold different objects under the same key.
func DirFor(storeURL string) string {
	sum := sha256.Sum256([]byte(storeURL))
	return filepath.Join(defaultBase(), hex.EncodeToString(sum[:8]))
}

func defaultBase() string {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, DefaultDirName)
}

// Option configures a Cache.
type Option func(*Cache)

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option {
	return func(c *Cache) { c.log = l.With("component", "cache") }
}

// WithRegisterer registers the cache's metrics (lakectl_cache_*); the default
// registers none. A cache with metrics indexes its directory at its first request,
// hit or miss, so that lakectl_cache_bytes counts every file from the start: the
// processes that export metrics run long, and one scan is nothing to them.
func WithRegisterer(r prometheus.Registerer) Option {
	return func(c *Cache) { c.metrics, c.indexFirst = newMetrics(r), r != nil }
}

// New returns a cache of store's objects in dir holding at most maxBytes. dir defaults
// to DefaultDirName under the user's cache directory, maxBytes to DefaultMaxBytes. An
// object larger than maxBytes is still served; it is evicted once it is released and
// another object needs the room. New touches no file: the directory is created and
// indexed on first use.
func New(store lake.Store, dir string, maxBytes int64, opts ...Option) *Cache {
	if dir == "" {
		dir = defaultBase()
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	c := &Cache{
		store:    store,
		dir:      dir,
		maxBytes: maxBytes,
		log:      slog.New(slog.DiscardHandler),
		entries:  map[string]*list.Element{},
		lru:      list.New(),
	}
	c.local, _ = store.(lake.LocalStore)
	for _, o := range opts {
		o(c)
	}
	if c.metrics == nil {
		c.metrics = newMetrics(nil)
	}
	return c
}

// Dir returns the cache directory.
func (c *Cache) Dir() string { return c.dir }

// Stats returns the counters so far.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Bytes = c.used
	return s
}

// Path returns a local file holding the object at key, downloading it on a miss. The
// file may be evicted by a later miss once the cache is full; a reader that must keep it
// until it is done uses Acquire. A missing object gives an error for which
// errors.Is(err, fs.ErrNotExist) is true.
func (c *Cache) Path(ctx context.Context, key string) (string, error) {
	p, release, err := c.Acquire(ctx, key)
	if err != nil {
		return "", err
	}
	release()
	return p, nil
}

// Holds reports whether the object at key is in the cache now, without pinning it or
// counting a hit: what a request for it would not download. A local store's objects
// are always held (nothing is copied).
func (c *Cache) Holds(key string) bool {
	if c.local != nil {
		return true
	}
	_, err := os.Stat(filepath.Join(c.dir, fileName(key)))
	return err == nil
}

// Acquire is Path with a pin: the file is not evicted, by this process or another
// sharing the directory, until release is called. release is idempotent.
//
// A key below col=value directories (Hive partitions) is handed over at a path below
// the same directories (see partPath), so that a reader that takes meaning from them,
// as DuckDB's Hive partitioning does, reads the key's.
func (c *Cache) Acquire(ctx context.Context, key string) (path string, release func(), err error) {
	if c.local != nil {
		return c.local.LocalPath(key), func() {}, nil
	}
	if c.indexFirst {
		if err := c.loadIndex(); err != nil {
			return "", nil, err
		}
	}
	name := fileName(key)
	if e, err := c.pinIfPresent(name, true); err != nil {
		return "", nil, fmt.Errorf("cache %s: %w", key, err)
	} else if e != nil {
		return c.partPath(key, name), c.releaser(e), nil
	}
	// A miss: the download makes room, for which the index must be whole.
	if err := c.loadIndex(); err != nil {
		return "", nil, err
	}
	// Downloads run detached from any one caller's context: a caller that gives up must
	// not fail the others waiting on the same key.
	ch := c.flight.DoChan(name, func() (any, error) {
		return c.download(context.WithoutCancel(ctx), key, name)
	})
	select {
	case <-ctx.Done():
		return "", nil, fmt.Errorf("cache %s: %w", key, ctx.Err())
	case r := <-ch:
		if r.Err != nil {
			return "", nil, r.Err
		}
	}
	for range 3 {
		e, err := c.pinIfPresent(name, false)
		if err != nil {
			return "", nil, fmt.Errorf("cache %s: %w", key, err)
		}
		if e != nil {
			// Room is made only now that the new file is pinned, so it cannot be the
			// one evicted.
			c.mu.Lock()
			c.evictLocked()
			c.mu.Unlock()
			return c.partPath(key, name), c.releaser(e), nil
		}
		// Evicted between the download and this pin, by this process (only when the
		// cache is far too small for what its readers hold) or by another one before
		// the pin's lock was taken. Fetch it again.
		if _, err, _ := c.flight.Do(name, func() (any, error) { return c.download(ctx, key, name) }); err != nil {
			return "", nil, err
		}
	}
	return "", nil, fmt.Errorf("cache %s: evicted while being fetched; the cache (%d bytes) is too small for the files in use", key, c.maxBytes)
}

// pinIfPresent pins and touches the entry for name, counting a hit or a miss. An entry
// whose file another process has evicted is dropped from the index and counts as
// absent. Before the index is loaded, a file in the directory is taken into it as it
// is found (adoptLocked). The first pin of an entry takes its shared lock; the
// syscalls involved do not wait, so they run under the mutex.
func (c *Cache) pinIfPresent(name string, first bool) (*entry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[name]
	if !ok && !c.loaded {
		var err error
		if el, err = c.adoptLocked(name); err != nil {
			return nil, err
		}
		ok = el != nil
	}
	if ok {
		if err := c.holdLocked(el.Value.(*entry)); errors.Is(err, fs.ErrNotExist) {
			c.dropLocked(el)
			ok = false
		} else if err != nil {
			return nil, err
		}
	}
	if !ok {
		if first {
			c.stats.Misses++
			c.metrics.misses.Inc()
		}
		return nil, nil
	}
	if first {
		c.stats.Hits++
		c.metrics.hits.Inc()
	}
	e := el.Value.(*entry)
	e.pins++
	e.atime = time.Now()
	c.lru.MoveToFront(el)
	return e, nil
}

// adoptLocked takes the file name, if the directory holds it, into the index, held
// with its shared lock: nil if it is not there. A process serves its hits this way
// without reading the whole directory, which a cache of many files makes cost more
// than a query of a few; the directory is indexed at the first miss (loadIndex), when
// room may have to be made.
func (c *Cache) adoptLocked(name string) (*list.Element, error) {
	f, err := holdShared(filepath.Join(c.dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	c.insertLocked(&entry{name: name, size: fi.Size(), held: f, atime: time.Now()}, true)
	return c.entries[name], nil
}

// holdLocked takes e's shared lock unless this process holds it already (it has
// pins, or adoptLocked has just taken it).
func (c *Cache) holdLocked(e *entry) error {
	if e.held != nil {
		return nil
	}
	f, err := holdShared(filepath.Join(c.dir, e.name))
	if err != nil {
		return err
	}
	e.held = f
	return nil
}

// dropLocked forgets an unpinned entry whose file is gone.
func (c *Cache) dropLocked(el *list.Element) {
	e := el.Value.(*entry)
	c.lru.Remove(el)
	delete(c.entries, e.name)
	c.used -= e.size
	c.metrics.bytes.Set(float64(c.used))
}

func (c *Cache) releaser(e *entry) func() {
	var once sync.Once
	return func() {
		// Releasing evicts nothing: the file stays until a new download needs its room,
		// so a path from Path stays valid at least until the next miss.
		once.Do(func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			e.pins--
			if e.pins == 0 {
				e.held.Close() // drops the shared lock: other processes may evict it now
				e.held = nil
			}
		})
	}
}

// download copies key into a temporary file, syncs it and renames it to name.
func (c *Cache) download(ctx context.Context, key, name string) (any, error) {
	c.mu.Lock()
	_, ok := c.entries[name]
	c.mu.Unlock()
	if ok { // another flight finished it between our miss and this call
		return nil, nil
	}
	final := filepath.Join(c.dir, name)
	if fi, err := os.Stat(final); err == nil {
		// Another process downloaded it since this one indexed the directory. Adopt
		// its copy; the pin that follows checks, under its lock, that it is still there.
		c.mu.Lock()
		defer c.mu.Unlock()
		if _, ok := c.entries[name]; !ok {
			c.insertLocked(&entry{name: name, size: fi.Size(), atime: time.Now()}, true)
		}
		return nil, nil
	}
	rc, err := c.store.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("cache download %s: %w", key, err)
	}
	defer rc.Close()
	tmp, err := os.CreateTemp(c.dir, tmpPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("cache download %s: %w", key, err)
	}
	size, err := io.Copy(tmp, rc)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// link, not rename: rename would replace a copy that another process
		// downloaded meanwhile and may hold, leaving its lock on an unnamed inode
		// while the name it handed to DuckDB points at an unlocked one. The copies
		// are equal (objects are immutable), so losing the race is no error.
		err = os.Link(tmp.Name(), final)
		switch {
		case errors.Is(err, fs.ErrExist):
			err = nil
		case err != nil:
			// A file system without hard links: rename, which gives up only the
			// guarantee above, for a race that also needs a second process.
			err = os.Rename(tmp.Name(), final)
		}
	}
	os.Remove(tmp.Name())
	if err != nil {
		return nil, fmt.Errorf("cache download %s: %w", key, err)
	}
	c.metrics.downloaded.Add(float64(size))
	c.log.Debug("downloaded", "key", key, "bytes", size)

	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.Downloads++
	c.stats.DownloadedBytes += size
	// A retry in Acquire may race another download of the same key; the rename made
	// the file whole either way, and the index must count it once.
	if _, ok := c.entries[name]; !ok {
		c.insertLocked(&entry{name: name, size: size, atime: time.Now()}, true)
	}
	return nil, nil
}

// insertLocked adds e as most (front) or least recently used.
func (c *Cache) insertLocked(e *entry, front bool) {
	if front {
		c.entries[e.name] = c.lru.PushFront(e)
	} else {
		c.entries[e.name] = c.lru.PushBack(e)
	}
	c.used += e.size
	c.metrics.bytes.Set(float64(c.used))
}

// evictLocked deletes unpinned files from the back of the LRU list until the cache
// fits. Files that another process holds are skipped and moved to the front: they are
// in use. Deleting runs under the mutex because none of its syscalls waits (the lock
// is tried, not awaited), and so no goroutine of this process can pin a file while it
// is being deleted.
func (c *Cache) evictLocked() {
	var inUse []*list.Element
	for el := c.lru.Back(); el != nil && c.used > c.maxBytes; {
		prev := el.Prev()
		e := el.Value.(*entry)
		if e.pins == 0 {
			switch res, err := removeUnheld(filepath.Join(c.dir, e.name), c.linkDir(e.name)); {
			case err != nil:
				c.log.Warn("evict", "file", e.name, "err", err)
			case res == held:
				inUse = append(inUse, el)
			case res == evicted:
				c.stats.Evictions++
				c.metrics.evictions.Inc()
				fallthrough
			default: // gone: another process evicted it, and its bytes are free
				c.dropLocked(el)
			}
		}
		el = prev
	}
	for _, el := range inUse {
		c.lru.MoveToFront(el)
	}
	c.metrics.bytes.Set(float64(c.used))
}

// loadIndex creates the directory and, once per Cache, indexes the files a previous
// process left (beside those adopted since), least recently downloaded last. Hits are
// not written to disk (a syscall per read for an ordering hint), so after a restart the
// LRU order is the download order. Temporary files unwritten for staleTmpAge are
// deleted: downloads that a crash interrupted.
func (c *Cache) loadIndex() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loaded {
		return c.loadErr
	}
	c.loaded = true
	c.loadErr = c.scanLocked()
	return c.loadErr
}

func (c *Cache) scanLocked() error {
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return fmt.Errorf("cache dir %s: %w", c.dir, err)
	}
	des, err := os.ReadDir(c.dir)
	if err != nil {
		return fmt.Errorf("cache index %s: %w", c.dir, err)
	}
	var found []*entry
	for _, de := range des {
		if !de.Type().IsRegular() {
			continue
		}
		if strings.HasPrefix(de.Name(), tmpPrefix) {
			if fi, err := de.Info(); err == nil && time.Since(fi.ModTime()) > staleTmpAge {
				os.Remove(filepath.Join(c.dir, de.Name()))
			}
			continue
		}
		if !isFileName(de.Name()) {
			continue // not ours; leave it alone
		}
		if _, ok := c.entries[de.Name()]; ok {
			continue // adopted before the index was loaded, and counted then
		}
		fi, err := de.Info()
		if err != nil {
			continue
		}
		found = append(found, &entry{name: de.Name(), size: fi.Size(), atime: fi.ModTime()})
	}
	sort.Slice(found, func(i, j int) bool { return found[i].atime.After(found[j].atime) })
	for _, e := range found {
		c.insertLocked(e, false)
	}
	c.evictLocked()
	c.log.Debug("index rebuilt", "dir", c.dir, "files", len(found), "bytes", c.used)
	return nil
}

// fileName maps a key to a flat, safe file name: keys may hold slashes, dots and any
// byte, and the name must not. The ".parquet" suffix is cosmetic, for people listing
// the directory.
func fileName(key string) string {
	sum := sha256.Sum256([]byte(key))
	name := hex.EncodeToString(sum[:])
	if strings.HasSuffix(key, ".parquet") {
		name += ".parquet"
	}
	return name
}

func isFileName(n string) bool {
	n = strings.TrimSuffix(n, ".parquet")
	if len(n) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(n)
	return err == nil
}
