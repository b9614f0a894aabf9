package cache

// Cross-process coordination. Every lakectl process on a lake shares its cache
// directory, but pins (Acquire) are counted per process, so a pin alone cannot stop
// another process's eviction from deleting a file this one has handed to DuckDB and
// DuckDB has not opened yet. The processes agree through advisory file locks on the
// cached files themselves:
//
//   - A process holding a file (pins > 0) keeps it open with a shared lock (flock
//     LOCK_SH). Any number of processes may hold one file.
//   - Eviction takes an exclusive lock without waiting (LOCK_EX|LOCK_NB) and deletes
//     the file only if it gets it; a file another process holds is skipped.
//   - A file appears under its final name only by link, which never replaces an
//     existing name, and disappears only by an eviction that holds the exclusive lock
//     on it. So after a holder has its shared lock, it checks that the name still
//     refers to the inode it locked: if it does, nobody can delete it until the lock
//     goes; if it does not, an eviction won the race and the file is fetched again.
//
// flock rather than fcntl (POSIX) locks: fcntl locks belong to the process and are all
// dropped when any descriptor of the file is closed, which DuckDB does with its own
// descriptors of the same file; flock locks belong to the open file description that
// took them. Both are advisory, which is enough: only lakectl deletes cache files.
// The kernel drops the locks of a process that dies, so a crash leaves nothing held.
//
// Where flock is missing (flock_other.go) the locks are no-ops: pins then protect
// files only within one process, as before, and processes that run at once over large
// lakes should have cache directories of their own.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/lakectl/lakectl/internal/flock"
)

// errEvicting reports a file that another process is deleting at this moment.
var errEvicting = fmt.Errorf("cache file is being evicted: %w", fs.ErrNotExist)

// holdShared opens the cached file at path and takes a shared lock on it, so that no
// process evicts it until the returned file is closed. A file that is gone, or going,
// gives an error for which errors.Is(err, fs.ErrNotExist) is true.
func holdShared(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	// Not waiting: the only conflicting lock is an eviction's, held just long enough to
	// delete the file, so waiting would only end in finding it gone.
	ok, err := flock.TryLock(f, flock.Shared)
	if err == nil && !ok {
		err = errEvicting
	}
	if err == nil {
		err = stillNamed(f, path)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("hold %s: %w", path, err)
	}
	return f, nil
}

// evictResult says what removeUnheld did.
type evictResult int

const (
	evicted evictResult = iota // this call deleted the file
	gone                       // the file was already gone: another process evicted it
	held                       // another process holds it; it was left alone
)

// removeUnheld deletes the cached file at path unless another process holds it, and
// first the directory of its link (partpath.go), under the same lock.
func removeUnheld(path, links string) (evictResult, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return gone, nil
	}
	if err != nil {
		return held, err
	}
	defer f.Close() // after the delete: closing drops the exclusive lock
	ok, err := flock.TryLock(f, flock.Exclusive)
	if err != nil || !ok {
		return held, err
	}
	// Between the open and the lock another process may have evicted this inode and
	// linked a new download under the name; that one is not ours to delete.
	if err := stillNamed(f, path); errors.Is(err, fs.ErrNotExist) {
		return gone, nil
	} else if err != nil {
		return held, err
	}
	if err := os.RemoveAll(links); err != nil {
		return held, err
	}
	if err := os.Remove(path); err != nil {
		return held, err
	}
	return evicted, nil
}

// stillNamed checks that path names the file f has open.
func stillNamed(f *os.File, path string) error {
	open, err := f.Stat()
	if err != nil {
		return err
	}
	named, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !os.SameFile(open, named) {
		return fmt.Errorf("replaced since it was opened: %w", fs.ErrNotExist)
	}
	return nil
}
