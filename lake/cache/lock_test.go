package cache

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/lakectl/lakectl/internal/flock"
)

// TestRemoveUnheld: eviction deletes a file nobody holds, with its links, leaves one
// that is held (flock locks conflict between open files even within one process, so a
// hold here stands for another process's) with its links, and reports one already
// deleted as gone.
func TestRemoveUnheld(t *testing.T) {
	dir := t.TempDir()
	write := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("data"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	free, taken := write("free"), write("taken")
	f, err := holdShared(taken)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	wantTaken := held
	if !flock.Supported {
		wantTaken = evicted // no-op locks: nothing is held across processes
	}
	for _, tc := range []struct {
		path string
		want evictResult
	}{
		{free, evicted},
		{taken, wantTaken},
		{filepath.Join(dir, "missing"), gone},
	} {
		links := filepath.Join(dir, partsDir, filepath.Base(tc.path))
		if err := os.MkdirAll(filepath.Join(links, "t", "day=1"), 0o755); err != nil {
			t.Fatal(err)
		}
		got, err := removeUnheld(tc.path, links)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(tc.path), err)
		}
		if got != tc.want {
			t.Errorf("%s: removeUnheld = %d, want %d", filepath.Base(tc.path), got, tc.want)
		}
		_, statErr := os.Stat(tc.path)
		if kept := statErr == nil; kept != (got == held) {
			t.Errorf("%s: file kept = %v after result %d", filepath.Base(tc.path), kept, got)
		}
		_, statErr = os.Stat(links)
		if kept := statErr == nil; kept != (got != evicted) {
			t.Errorf("%s: links kept = %v after result %d", filepath.Base(tc.path), kept, got)
		}
	}
}

// TestHoldSharedSeesReplacement: a holder whose lock landed on an inode that has since
// been evicted and replaced under the same name must not trust the name.
func TestHoldSharedSeesReplacement(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := stillNamed(f, p); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stillNamed on a replaced file = %v, want fs.ErrNotExist", err)
	}
	if _, err := holdShared(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("holdShared on a missing file = %v, want fs.ErrNotExist", err)
	}
}
