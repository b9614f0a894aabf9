package cache

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/lake/mem"
)

// TestAcquireGivesPartitionPaths: a cached file is handed over, on the miss and on
// every hit, at a path that ends with its key's partition directories and file name
// below none other with an '=', and that path reads the object's bytes.
func TestAcquireGivesPartitionPaths(t *testing.T) {
	ctx := t.Context()
	store := mem.New()
	const key = "silver/events/day=2026-11-17/hour=3/part-1.parquet"
	want := put(t, store, key, 100)
	dir := t.TempDir()
	c := New(store, dir, 1<<20)
	for range 2 {
		p, release, err := c.Acquire(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		root, ok := strings.CutSuffix(filepath.ToSlash(p), "/day=2026-11-17/hour=3/part-1.parquet")
		if !ok || !strings.HasPrefix(root, filepath.ToSlash(dir)) || strings.Contains(root, "=") {
			t.Errorf("path %q: want one in %s ending with the partitions and the file, below no other '='", p, dir)
		}
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("read %s: %d bytes, err %v; want the object's %d", p, len(got), err, len(want))
		}
		release()
	}
	if st := c.Stats(); st.Downloads != 1 || st.Bytes != 100 {
		t.Errorf("stats = %+v: want one download of 100 bytes (a link is no copy)", st)
	}
}

// TestPartitionPathOnlyForPlainKeys: a key without partition directories, or one
// that is not a plain relative path (it could name a place outside the cache, or one
// no file system takes, or read as a glob to DuckDB), gets the flat file.
func TestPartitionPathOnlyForPlainKeys(t *testing.T) {
	ctx := t.Context()
	store := mem.New()
	dir := t.TempDir()
	c := New(store, dir, 1<<20)
	for _, key := range []string{"t/events/part-1.parquet", "t/f=1.parquet", "../d=1/escape.parquet", "t/d=1//b.parquet", "/d=1/abs.parquet", "t/d=1/./b.parquet", `t/d=1\b.parquet`,
		"t/v=a[1]/f.parquet", "t/v=*/f.parquet", "t/d=1/" + strings.Repeat("x", 300) + ".parquet"} {
		put(t, store, key, 10)
		p, err := c.Path(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(dir, fileName(key)); p != want {
			t.Errorf("key %q: path %q, want the flat file %q", key, p, want)
		}
	}
}

// TestEvictionRemovesPartitionPaths: an evicted file's link goes with it, and a link
// left dangling (a crash between the two removals) is made again on the next acquire.
func TestEvictionRemovesPartitionPaths(t *testing.T) {
	ctx := t.Context()
	store := mem.New()
	for _, k := range []string{"t/d=1/a.parquet", "t/d=1/b.parquet"} {
		put(t, store, k, 100)
	}
	dir := t.TempDir()
	c := New(store, dir, 150)
	pa, err := c.Path(ctx, "t/d=1/a.parquet")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Path(ctx, "t/d=1/b.parquet"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(pa); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("link of evicted a: lstat err = %v, want not exist", err)
	}
	if names := dirNames(t, filepath.Join(dir, partsDir)); len(names) != 1 {
		t.Errorf("link directories %v: want b's alone", names)
	}

	// A dangling link: a's link made again by hand, its file gone.
	if err := os.MkdirAll(filepath.Dir(pa), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("missing", pa); err != nil {
		t.Fatal(err)
	}
	p, err := c.Path(ctx, "t/d=1/a.parquet")
	if err != nil {
		t.Fatal(err)
	}
	if p != pa {
		t.Errorf("path %q, want %q", p, pa)
	}
	if got, err := os.ReadFile(p); err != nil || len(got) != 100 {
		t.Errorf("read the repaired link: %d bytes, err %v", len(got), err)
	}
}
