package flock

import (
	"os"
	"path/filepath"
	"testing"
)

// Two open file descriptions of one file conflict as flock(2) says: shared locks
// coexist, an exclusive one excludes every other, and closing a file frees its lock.
func TestTryLock(t *testing.T) {
	if !Supported {
		t.Skip("no flock on this platform: every lock is granted")
	}
	path := filepath.Join(t.TempDir(), "lock")
	open := func() *os.File {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	lock := func(f *os.File, m Mode, want bool) {
		t.Helper()
		if got, err := TryLock(f, m); err != nil || got != want {
			t.Fatalf("TryLock(%v) = %v, %v; want %v", m, got, err, want)
		}
	}
	a, b := open(), open()
	lock(a, Shared, true)
	lock(b, Shared, true)
	c := open()
	lock(c, Exclusive, false)
	a.Close()
	b.Close()
	lock(c, Exclusive, true)
	lock(open(), Shared, false)
}
