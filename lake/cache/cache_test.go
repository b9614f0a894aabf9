package cache

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
)

// countingStore counts Gets and can hold them at a gate, or fail them half way.
type countingStore struct {
	lake.Store
	gets    atomic.Int64
	gate    chan struct{} // when non-nil, Get blocks until it is closed
	failMid bool          // the reader yields half the object, then an error
	midway  chan struct{} // closed once a failing reader has yielded its half
}

func (s *countingStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	s.gets.Add(1)
	if s.gate != nil {
		<-s.gate
	}
	data, err := lake.ReadAll(ctx, s.Store, key)
	if err != nil {
		return nil, err
	}
	if s.failMid {
		return io.NopCloser(&halfReader{data: data[:len(data)/2], midway: s.midway}), nil
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

type halfReader struct {
	data   []byte
	midway chan struct{}
	done   bool
}

func (r *halfReader) Read(p []byte) (int, error) {
	if len(r.data) > 0 {
		n := copy(p, r.data)
		r.data = r.data[n:]
		return n, nil
	}
	if !r.done && r.midway != nil {
		r.done = true
		<-r.midway // the test looks at the directory while the copy is half done
	}
	return 0, errors.New("connection reset")
}

func put(t *testing.T, s lake.Store, key string, size int) []byte {
	t.Helper()
	data := bytes.Repeat([]byte{key[len(key)-1]}, size)
	if err := s.Put(t.Context(), key, bytes.NewReader(data), int64(size)); err != nil {
		t.Fatal(err)
	}
	return data
}

func TestPathDownloadsOnceThenHits(t *testing.T) {
	ctx := t.Context()
	store := &countingStore{Store: mem.New()}
	want := put(t, store, "t/part-a.parquet", 100)
	c := New(store, t.TempDir(), 1<<20)

	for range 3 {
		p, err := c.Path(ctx, "t/part-a.parquet")
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("cached file holds %d bytes, want the object's %d", len(got), len(want))
		}
	}
	st := c.Stats()
	if st.Misses != 1 || st.Hits != 2 || st.Downloads != 1 || st.Bytes != 100 {
		t.Errorf("stats = %+v, want 1 miss, 2 hits, 1 download, 100 bytes", st)
	}
	if n := store.gets.Load(); n != 1 {
		t.Errorf("store Gets = %d, want 1", n)
	}
}

func TestPathMissingObjectIsNotExist(t *testing.T) {
	c := New(mem.New(), t.TempDir(), 1<<20)
	_, err := c.Path(t.Context(), "t/nope.parquet")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist", err)
	}
}

func TestEvictsLeastRecentlyUsed(t *testing.T) {
	ctx := t.Context()
	store := mem.New()
	for _, k := range []string{"a", "b", "c"} {
		put(t, store, k, 100)
	}
	c := New(store, t.TempDir(), 250)
	path := func(k string) string {
		t.Helper()
		p, err := c.Path(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	pa, pb := path("a"), path("b")
	path("a") // a is now more recent than b
	pc := path("c")

	for _, tc := range []struct {
		path string
		kept bool
	}{{pa, true}, {pb, false}, {pc, true}} {
		_, err := os.Stat(tc.path)
		if kept := err == nil; kept != tc.kept {
			t.Errorf("%s kept = %v, want %v", filepath.Base(tc.path), kept, tc.kept)
		}
	}
	if st := c.Stats(); st.Evictions != 1 || st.Bytes != 200 {
		t.Errorf("stats = %+v, want 1 eviction and 200 bytes", st)
	}
}

func TestAcquiredFileIsNotEvicted(t *testing.T) {
	ctx := t.Context()
	store := mem.New()
	for _, k := range []string{"a", "b", "c", "d"} {
		put(t, store, k, 100)
	}
	c := New(store, t.TempDir(), 150)
	pa, release, err := c.Acquire(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	pb, err := c.Path(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Path(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	// c needed room: a is older but pinned, so b went.
	if _, err := os.Stat(pa); err != nil {
		t.Fatalf("pinned file was evicted: %v", err)
	}
	if _, err := os.Stat(pb); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("unpinned b kept: stat err = %v", err)
	}
	release()
	release() // idempotent
	if _, err := c.Path(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(pa); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("released a kept after d needed room: stat err = %v", err)
	}
	if st := c.Stats(); st.Bytes != 100 || st.Evictions != 3 {
		t.Errorf("stats = %+v, want 100 bytes after 3 evictions", st)
	}
}

func TestConcurrentRequestsDownloadOnce(t *testing.T) {
	ctx := t.Context()
	store := &countingStore{Store: mem.New(), gate: make(chan struct{})}
	put(t, store, "t/big.parquet", 4096)
	c := New(store, t.TempDir(), 1<<20)

	const n = 8
	var wg sync.WaitGroup
	paths := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { paths[i], errs[i] = c.Path(ctx, "t/big.parquet") })
	}
	// Hold the one download until every request has missed, so they all overlap it.
	for c.Stats().Misses < n {
		runtimeYield()
	}
	close(store.gate)
	wg.Wait()

	for i := range n {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		if paths[i] != paths[0] {
			t.Errorf("request %d got %s, want %s", i, paths[i], paths[0])
		}
	}
	if got := store.gets.Load(); got != 1 {
		t.Errorf("store Gets = %d, want 1", got)
	}
	if st := c.Stats(); st.Downloads != 1 {
		t.Errorf("downloads = %d, want 1", st.Downloads)
	}
}

func TestInterruptedDownloadLeavesNoFile(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	store := &countingStore{Store: mem.New(), failMid: true, midway: make(chan struct{})}
	put(t, store, "t/part.parquet", 1000)
	c := New(store, dir, 1<<20)

	done := make(chan error)
	go func() {
		_, err := c.Path(ctx, "t/part.parquet")
		done <- err
	}()
	// While half the object is written, only a temporary name may exist.
	var names []string
	for {
		names = dirNames(t, dir)
		if len(names) > 0 {
			break
		}
		runtimeYield()
	}
	for _, n := range names {
		if !strings.HasPrefix(n, tmpPrefix) {
			t.Errorf("half-downloaded object visible as %q", n)
		}
	}
	close(store.midway)
	if err := <-done; err == nil {
		t.Fatal("interrupted download returned no error")
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("files left after a failed download: %v", names)
	}

	// The next request downloads it properly.
	store.failMid = false
	p, err := c.Path(ctx, "t/part.parquet")
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Size() != 1000 {
		t.Fatalf("after retry: stat = %v, %v; want 1000 bytes", fi, err)
	}
}

// TestNewProcessRebuildsIndex: a new process serves hits from the files an earlier
// one left, without reading the whole directory; its first miss indexes the directory
// (deleting what a crash left) before it makes room, oldest download first.
func TestNewProcessRebuildsIndex(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	store := &countingStore{Store: mem.New()}
	for _, k := range []string{"a", "b", "c", "d"} {
		put(t, store, k, 100)
	}
	first := New(store, dir, 1<<20)
	old := time.Now().Add(-time.Hour)
	for i, k := range []string{"a", "b", "c"} {
		if _, err := first.Path(ctx, k); err != nil {
			t.Fatal(err)
		}
		// a is the oldest download, c the newest.
		mt := old.Add(time.Duration(i) * time.Minute)
		if err := os.Chtimes(filepath.Join(dir, fileName(k)), mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	// A download that a crash cut short.
	crashed := filepath.Join(dir, tmpPrefix+"123")
	if err := os.WriteFile(crashed, []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(crashed, old, old); err != nil {
		t.Fatal(err)
	}

	// A new process with room for three.
	second := New(store, dir, 350)
	gets := store.gets.Load()
	for _, k := range []string{"b", "c"} {
		if _, err := second.Path(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if got := store.gets.Load() - gets; got != 0 {
		t.Errorf("store Gets after restart = %d, want 0 (files found)", got)
	}
	if second.loaded {
		t.Error("the directory was indexed for hits alone")
	}
	if st := second.Stats(); st.Hits != 2 || st.Bytes != 200 {
		t.Errorf("stats after the hits = %+v, want 2 hits of 200 bytes", st)
	}
	// d is a miss: b, c, d and the oldest, a, make 400 bytes, and a goes.
	if _, err := second.Path(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	if st := second.Stats(); st.Hits != 2 || st.Misses != 1 || st.Evictions != 1 || st.Bytes != 300 {
		t.Errorf("stats = %+v, want 2 hits, 1 miss, 1 eviction, 300 bytes (b, c and d, each counted once)", st)
	}
	if _, err := os.Stat(crashed); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("leftover temp file: stat err = %v, want not exist", err)
	}
	if _, err := os.Stat(filepath.Join(dir, fileName("a"))); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("oldest file a kept when room was needed: %v", err)
	}
}

// TestCacheWithMetricsIndexesAtOnce: a process that exports lakectl_cache_bytes
// counts every file in the directory from its first request, a hit included.
func TestCacheWithMetricsIndexesAtOnce(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	store := mem.New()
	first := New(store, dir, 1<<20)
	for _, k := range []string{"a", "b", "c"} {
		put(t, store, k, 100)
		if _, err := first.Path(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewRegistry()
	c := New(store, dir, 1<<20, WithRegisterer(reg))
	if _, err := c.Path(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Hits != 1 || st.Bytes != 300 {
		t.Errorf("stats = %+v, want 1 hit and all 300 bytes counted", st)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got float64
	for _, mf := range mfs {
		if mf.GetName() == "lakectl_cache_bytes" {
			got = mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	if got != 300 {
		t.Errorf("lakectl_cache_bytes = %v, want 300", got)
	}
}

// localStore is a lake.LocalStore over mem, to check that the cache hands over its paths.
type localStore struct{ *mem.Store }

func (localStore) LocalPath(key string) string { return "/data/lake/" + key }

func TestLocalStoreIsNotCopied(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	c := New(localStore{mem.New()}, dir, 0)
	p, err := c.Path(t.Context(), "t/part.parquet")
	if err != nil {
		t.Fatal(err)
	}
	if want := "/data/lake/t/part.parquet"; p != want {
		t.Errorf("path = %q, want %q", p, want)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("cache dir created for a local store: %v", err)
	}
}

func TestFileNamesAreFlatAndDistinct(t *testing.T) {
	keys := []string{"a/b.parquet", "a_b.parquet", "../x", "a/b.parquet "}
	seen := map[string]string{}
	for _, k := range keys {
		n := fileName(k)
		if strings.ContainsAny(n, "/\\") || !isFileName(n) {
			t.Errorf("fileName(%q) = %q: not a flat cache name", k, n)
		}
		if other, ok := seen[n]; ok {
			t.Errorf("keys %q and %q share file %q", k, other, n)
		}
		seen[n] = k
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		out = append(out, de.Name())
	}
	return out
}

// runtimeYield lets other goroutines run while a test polls a condition.
func runtimeYield() { time.Sleep(time.Millisecond) }

// TestSecondProcessKeepsDownloadsInFlight: two processes share the default cache
// directory (every lakectl command of a user uses it). A process that starts and
// indexes the directory must not delete the temporary file of a download another
// process is writing, or that download fails at its rename.
func TestSecondProcessKeepsDownloadsInFlight(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	slow := &countingStore{Store: mem.New(), failMid: true, midway: make(chan struct{})}
	put(t, slow, "t/a.parquet", 1000)
	first := New(slow, dir, 1<<20)
	done := make(chan error)
	go func() {
		_, err := first.Path(ctx, "t/a.parquet")
		done <- err
	}()
	for len(dirNames(t, dir)) == 0 { // the first process is half way through
		runtimeYield()
	}
	other := &countingStore{Store: mem.New()}
	put(t, other, "t/b.parquet", 100)
	second := New(other, dir, 1<<20)
	if _, err := second.Path(ctx, "t/b.parquet"); err != nil {
		t.Fatal(err)
	}
	names := dirNames(t, dir)
	inFlight := 0
	for _, n := range names {
		if strings.HasPrefix(n, tmpPrefix) {
			inFlight++
		}
	}
	close(slow.midway)
	<-done // the half reader fails this download whatever happens; the file is what counts
	if inFlight != 1 {
		t.Errorf("after a second process indexed the directory: %v; want the first process's download still there", names)
	}
}

// TestDirForSeparatesStores: two lakes may hold different objects under one key, so
// each store URL gets its own default directory, and the same URL always the same one.
func TestDirForSeparatesStores(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	a, b := DirFor("s3://lake/prod"), DirFor("s3://lake/dev")
	if a == b {
		t.Errorf("DirFor gives %s for two stores", a)
	}
	if again := DirFor("s3://lake/prod"); again != a {
		t.Errorf("DirFor is not stable: %s, then %s", a, again)
	}
	if want := filepath.Join(os.Getenv("XDG_CACHE_HOME"), DefaultDirName); filepath.Dir(a) != want {
		t.Errorf("DirFor = %s, want a directory in %s", a, want)
	}
}
