// Package flock takes advisory whole-file locks (flock(2)) without waiting, for
// processes on one host that share a directory: the lake cache's pins, and ingest's
// instance-id slots. The kernel drops a lock when its file is closed or its process
// ends, even by SIGKILL, so a crash never leaves a lock behind.
//
//	ok, err := flock.TryLock(f, flock.Exclusive)
//	if err == nil && !ok {
//		// another process holds f
//	}
//
// Where the platform has no flock, Supported is false and every lock is granted.
package flock

// Mode is the kind of lock: any number of Shared holders, or one Exclusive.
type Mode int

const (
	Shared Mode = iota + 1
	Exclusive
)
