package cache

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/internal/flock"
	"github.com/lakectl/lakectl/lake/mem"
)

// holderDirEnv, when set, makes the test binary a holder process (see runHolder) over
// the cache directory it names instead of running the tests.
const holderDirEnv = "LAKECTL_CACHE_HOLDER_DIR"

// heldKey is the object that the holder process acquires, and heldSize its size.
const (
	heldKey  = "t/d=1/held.parquet"
	heldSize = 100
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(holderDirEnv); dir != "" {
		os.Exit(runHolder(dir, os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

// heldData is the content of heldKey, the same in every process.
func heldData() []byte { return bytes.Repeat([]byte{'h'}, heldSize) }

// runHolder is another lakectl process on the same lake: it acquires heldKey through
// a cache in dir and prints "held <path>". On each "read" line from in it reads the file
// as DuckDB would open it and prints "read ok"; on "release" it releases the file and
// prints "released". It exits when in closes.
func runHolder(dir string, in io.Reader, out io.Writer) int {
	ctx := context.Background() // a process of its own: there is no caller's context
	store := mem.New()
	if err := store.Put(ctx, heldKey, bytes.NewReader(heldData()), heldSize); err != nil {
		fmt.Fprintln(os.Stderr, "holder:", err)
		return 2
	}
	path, release, err := New(store, dir, 1<<20).Acquire(ctx, heldKey)
	if err != nil {
		fmt.Fprintln(os.Stderr, "holder acquire:", err)
		return 1
	}
	fmt.Fprintln(out, "held", path)
	lines := bufio.NewScanner(in)
	for lines.Scan() {
		switch lines.Text() {
		case "read":
			got, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(got, heldData()) {
				fmt.Fprintf(out, "read failed: %d bytes, %v\n", len(got), err)
				continue
			}
			fmt.Fprintln(out, "read ok")
		case "release":
			release()
			fmt.Fprintln(out, "released")
		}
	}
	return 0
}

// holder is a running holder process.
type holder struct {
	t    *testing.T
	in   io.WriteCloser
	out  *bufio.Scanner
	path string
}

func startHolder(t *testing.T, dir string) *holder {
	t.Helper()
	// Not CommandContext: t.Context ends before the cleanup that stops the holder by
	// closing its input, which is how it exits cleanly.
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holderDirEnv+"="+dir)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("holder process: %v", err)
		}
	})
	h := &holder{t: t, in: in, out: bufio.NewScanner(out)}
	h.path = strings.TrimPrefix(h.line(), "held ")
	return h
}

// ask sends a command to the holder and returns its answer.
func (h *holder) ask(cmd string) string {
	h.t.Helper()
	if _, err := fmt.Fprintln(h.in, cmd); err != nil {
		h.t.Fatal(err)
	}
	return h.line()
}

func (h *holder) line() string {
	h.t.Helper()
	if !h.out.Scan() {
		h.t.Fatalf("holder process ended: %v", h.out.Err())
	}
	return h.out.Text()
}

// TestFileHeldByAnotherProcessIsNotEvicted: every process on a lake shares its cache
// directory. A file that one process has acquired must survive another process filling
// the directory past its bound, and be evictable once released.
func TestFileHeldByAnotherProcessIsNotEvicted(t *testing.T) {
	if !flock.Supported {
		t.Skip("no flock on this platform: pins protect files only within a process")
	}
	ctx := t.Context()
	dir := t.TempDir()
	h := startHolder(t, dir)
	if want := filepath.Join(dir, partsDir, strings.TrimSuffix(fileName(heldKey), ".parquet"), "d=1", "held.parquet"); h.path != want {
		t.Fatalf("holder holds %s, want %s", h.path, want)
	}

	store := mem.New()
	keys := []string{"a", "b", "c", "d", "e", "f", "g"}
	for _, k := range keys {
		put(t, store, k, 100)
	}
	c := New(store, dir, 250) // room for two files; it indexes the held one as the oldest
	for _, k := range keys[:4] {
		if _, err := c.Path(ctx, k); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(h.path); err != nil {
			t.Fatalf("after caching %s: file held by another process was evicted: %v", k, err)
		}
	}
	if st := c.Stats(); st.Evictions == 0 {
		t.Fatalf("stats = %+v: the cache never went past its bound, so nothing was tested", st)
	}
	if got := h.ask("read"); got != "read ok" {
		t.Fatalf("holder reading its file: %s", got)
	}

	if got := h.ask("release"); got != "released" {
		t.Fatalf("holder release: %s", got)
	}
	// Three more files push everything cached before them past a bound of two.
	for _, k := range keys[4:] {
		if _, err := c.Path(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(h.path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("released file kept after the cache needed its room: stat err = %v", err)
	}
	if st := c.Stats(); st.Bytes > 250 {
		t.Errorf("stats = %+v: over the bound with nothing held", st)
	}
}

// TestFileEvictedByAnotherProcessIsFetchedAgain: a file in this process's index that
// another process evicted is downloaded again on the next request, not handed out.
func TestFileEvictedByAnotherProcessIsFetchedAgain(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	store := &countingStore{Store: mem.New()}
	for _, k := range []string{"x", "y", "z"} {
		put(t, store, k, 100)
	}
	first := New(store, dir, 1<<20)
	px, err := first.Path(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	// A second process indexes x and evicts it to make room for y and z.
	second := New(store, dir, 250)
	for _, k := range []string{"y", "z"} {
		if _, err := second.Path(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(px); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("second process kept x: stat err = %v", err)
	}

	gets := store.gets.Load()
	p, release, err := first.Acquire(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if fi, err := os.Stat(p); err != nil || fi.Size() != 100 {
		t.Fatalf("acquired x after another process evicted it: stat = %v, %v; want 100 bytes", fi, err)
	}
	if got := store.gets.Load() - gets; got != 1 {
		t.Errorf("store Gets = %d, want 1 (x fetched again)", got)
	}
	if st := first.Stats(); st.Misses != 2 || st.Hits != 0 {
		t.Errorf("stats = %+v, want 2 misses and no hit", st)
	}
}

// TestDownloadOfAnotherProcessIsAdopted: a file that another process downloaded after
// this one indexed the directory is used as it is, not fetched again.
func TestDownloadOfAnotherProcessIsAdopted(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	store := &countingStore{Store: mem.New()}
	want := put(t, store, "t/x.parquet", 100)
	put(t, store, "t/y.parquet", 100)
	first := New(store, dir, 1<<20)
	if _, err := first.Path(ctx, "t/y.parquet"); err != nil { // indexes the directory
		t.Fatal(err)
	}
	if _, err := New(store, dir, 1<<20).Path(ctx, "t/x.parquet"); err != nil {
		t.Fatal(err)
	}

	gets := store.gets.Load()
	p, err := first.Path(ctx, "t/x.parquet")
	if err != nil {
		t.Fatal(err)
	}
	if got := store.gets.Load() - gets; got != 0 {
		t.Errorf("store Gets = %d, want 0 (the other process's copy adopted)", got)
	}
	if got, err := os.ReadFile(p); err != nil || !bytes.Equal(got, want) {
		t.Errorf("adopted file: %d bytes, %v; want the object's %d", len(got), err, len(want))
	}
	if st := first.Stats(); st.Bytes != 200 || st.Downloads != 1 {
		t.Errorf("stats = %+v, want 200 bytes counted from 1 download of its own", st)
	}
}
