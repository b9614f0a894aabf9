// Package storetest is the contract suite that every lake.Store backend passes: the
// in-memory store, the file system, and real S3 servers. A backend's test calls Run with
// a function that opens a fresh, empty store for each subtest:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) lake.Store {
//			s, err := fs.New(t.TempDir())
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"testing"
	"time"

	"github.com/lakectl/lakectl/lake"
)

// Options tunes the suite for slow backends. The zero value runs the full suite.
type Options struct {
	// RaceRounds is how many rounds of the concurrent PutIfAbsent race run. Default 20.
	RaceRounds int
	// RaceWriters is how many goroutines race in each round. Default 16.
	RaceWriters int
	// LargeSize is the size of the object that must cross the multipart threshold.
	// Default 40 MiB.
	LargeSize int64
}

func (o Options) withDefaults() Options {
	if o.RaceRounds <= 0 {
		o.RaceRounds = 20
	}
	if o.RaceWriters <= 0 {
		o.RaceWriters = 16
	}
	if o.LargeSize <= 0 {
		o.LargeSize = 40 << 20
	}
	return o
}

// Run runs the contract suite with default options. open must return an empty store
// that no other subtest uses.
func Run(t *testing.T, open func(t *testing.T) lake.Store) {
	RunWith(t, Options{}, open)
}

// RunWith runs the contract suite with opts.
func RunWith(t *testing.T, opts Options, open func(t *testing.T) lake.Store) {
	opts = opts.withDefaults()
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, open(t)) })
	t.Run("GetRange", func(t *testing.T) { testGetRange(t, open(t)) })
	t.Run("Stat", func(t *testing.T) { testStat(t, open(t)) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, open(t)) })
	t.Run("List", func(t *testing.T) { testList(t, open(t)) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, open(t)) })
	t.Run("PutReplaces", func(t *testing.T) { testPutReplaces(t, open(t)) })
	t.Run("PutIfAbsentExisting", func(t *testing.T) { testPutIfAbsentExisting(t, open(t)) })
	t.Run("PutIfAbsentRace", func(t *testing.T) { testPutIfAbsentRace(t, open(t), opts) })
	t.Run("Large", func(t *testing.T) { testLarge(t, open(t), opts.LargeSize) })
	t.Run("CanceledContext", func(t *testing.T) { testCanceled(t, open(t)) })
}

// put writes data under key with Put and a known size.
func put(t *testing.T, s lake.Store, key string, data []byte) {
	t.Helper()
	if err := s.Put(t.Context(), key, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

// get reads key whole, failing the test on error.
func get(t *testing.T, s lake.Store, key string) []byte {
	t.Helper()
	got, err := lake.ReadAll(t.Context(), s, key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return got
}

func wantBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s: got %d bytes %q, want %d bytes %q", what, len(got), clip(got), len(want), clip(want))
	}
}

func clip(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}

func testRoundTrip(t *testing.T, s lake.Store) {
	cases := []struct {
		key  string
		data []byte
	}{
		{"empty", nil},
		{"one.txt", []byte("x")},
		{"t/_delta_log/00000000000000000000.json", []byte(`{"commitInfo":{}}` + "\n")},
		{"t/event_date=2026-11-21/event_hour=08/part-0001.zstd.parquet", pattern(1<<20 + 17)},
		{"deep/a/b/c/d/e/f", []byte("deep")},
	}
	for _, c := range cases {
		put(t, s, c.key, c.data)
		wantBytes(t, "Get after Put "+c.key, get(t, s, c.key), c.data)
	}
	if err := s.PutIfAbsent(t.Context(), "pia/commit.json", []byte("commit")); err != nil {
		t.Fatalf("PutIfAbsent on a new key: %v", err)
	}
	wantBytes(t, "Get after PutIfAbsent", get(t, s, "pia/commit.json"), []byte("commit"))
	// Put with an unknown size streams as well.
	data := pattern(70_000)
	if err := s.Put(t.Context(), "unknown-size", io.MultiReader(bytes.NewReader(data)), -1); err != nil {
		t.Fatalf("Put with size -1: %v", err)
	}
	wantBytes(t, "Get after Put with size -1", get(t, s, "unknown-size"), data)
}

func testGetRange(t *testing.T, s lake.Store) {
	data := pattern(1000)
	put(t, s, "r", data)
	cases := []struct {
		name           string
		offset, length int64
		want           []byte
	}{
		{"head", 0, 10, data[:10]},
		{"middle", 100, 250, data[100:350]},
		{"tail to end", 990, -1, data[990:]},
		{"whole", 0, -1, data},
		{"length past end", 995, 100, data[995:]},
		{"last byte", 999, 1, data[999:]},
		{"offset at end", 1000, 10, nil},
		{"offset past end", 5000, -1, nil},
		{"zero length", 10, 0, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rc, err := s.GetRange(t.Context(), "r", c.offset, c.length)
			if err != nil {
				t.Fatalf("GetRange(%d, %d): %v", c.offset, c.length, err)
			}
			defer rc.Close()
			got, err := io.ReadAll(rc)
			if err != nil {
				t.Fatalf("GetRange(%d, %d): read: %v", c.offset, c.length, err)
			}
			wantBytes(t, fmt.Sprintf("GetRange(%d, %d)", c.offset, c.length), got, c.want)
		})
	}
}

func testStat(t *testing.T, s lake.Store) {
	before := time.Now()
	put(t, s, "a/b.bin", pattern(12345))
	if err := s.PutIfAbsent(t.Context(), "a/c.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	for key, size := range map[string]int64{"a/b.bin": 12345, "a/c.json": 2} {
		info, err := s.Stat(t.Context(), key)
		if err != nil {
			t.Fatalf("Stat(%q): %v", key, err)
		}
		if info.Key != key || info.Size != size {
			t.Errorf("Stat(%q) = {Key %q, Size %d}, want {Key %q, Size %d}", key, info.Key, info.Size, key, size)
		}
		// Servers truncate to whole seconds, and their clock is this machine's.
		if info.ModTime.Before(before.Truncate(time.Second).Add(-time.Minute)) {
			t.Errorf("Stat(%q).ModTime = %v, before the write at %v", key, info.ModTime, before)
		}
	}
}

func testNotFound(t *testing.T, s lake.Store) {
	ctx := t.Context()
	put(t, s, "dir/obj", []byte("x"))
	// "dir" is a prefix of an object, not an object; "dir/obj/x" runs through one.
	for _, key := range []string{"missing", "dir/missing", "dir", "dir/obj/x", "nodir/missing"} {
		if _, err := s.Get(ctx, key); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Get(%q) error = %v, want fs.ErrNotExist", key, err)
		}
		if _, err := s.GetRange(ctx, key, 0, 1); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("GetRange(%q) error = %v, want fs.ErrNotExist", key, err)
		}
		if _, err := s.Stat(ctx, key); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat(%q) error = %v, want fs.ErrNotExist", key, err)
		}
	}
}
