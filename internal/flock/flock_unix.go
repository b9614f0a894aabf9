//go:build linux || darwin || dragonfly || freebsd || illumos || netbsd || openbsd

package flock

import (
	"errors"
	"os"
	"syscall"
)

// Supported says that locks hold across processes on this platform.
const Supported = true

// TryLock takes the lock mode on f without waiting. It reports false when another
// open file description holds a conflicting lock. The lock lasts until f is closed.
func TryLock(f *os.File, mode Mode) (bool, error) {
	how := syscall.LOCK_SH
	if mode == Exclusive {
		how = syscall.LOCK_EX
	}
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
