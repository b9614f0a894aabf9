//go:build !(linux || darwin || dragonfly || freebsd || illumos || netbsd || openbsd)

package flock

import "os"

// Supported is false: without flock every lock is granted, so callers must not rely
// on locks between processes.
const Supported = false

// TryLock grants every lock.
func TryLock(*os.File, Mode) (bool, error) { return true, nil }
