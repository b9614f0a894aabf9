//go:build linux || darwin || dragonfly || freebsd || illumos || netbsd || openbsd

package cache

import (
	"errors"
	"os"
	"syscall"
)

// locksWork says that holds keep files across processes on this platform.
const locksWork = true

const (
	lockShared    = syscall.LOCK_SH
	lockExclusive = syscall.LOCK_EX
)

// tryLock takes the flock lock how (lockShared or lockExclusive) on f without waiting.
// It reports false when another open file description holds a conflicting lock. The
// lock lasts until f is closed.
func tryLock(f *os.File, how int) (bool, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return false, err
	}
	var lerr error
	if err := rc.Control(func(fd uintptr) {
		for {
			lerr = syscall.Flock(int(fd), how|syscall.LOCK_NB)
			if !errors.Is(lerr, syscall.EINTR) {
				return
			}
		}
	}); err != nil {
		return false, err
	}
	if errors.Is(lerr, syscall.EWOULDBLOCK) {
		return false, nil
	}
	if lerr != nil {
		return false, &os.PathError{Op: "flock", Path: f.Name(), Err: lerr}
	}
	return true, nil
}
