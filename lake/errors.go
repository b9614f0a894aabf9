package lake

import (
	"errors"
	"fmt"
	"io/fs"
)

// ErrExists is returned by Store.PutIfAbsent when the key already holds an object.
var ErrExists = errors.New("object already exists")

// ErrNoTable is returned when a path holds no Delta log. It matches fs.ErrNotExist too.
var ErrNoTable = noTableError{}

type noTableError struct{}

func (noTableError) Error() string        { return "no Delta table (no _delta_log)" }
func (noTableError) Is(target error) bool { return target == fs.ErrNotExist }

// ConflictError says that a commit lost against a concurrent one in a way that a retry
// at the next version cannot fix: the caller must re-read and redo its work.
type ConflictError struct {
	Version int64  // the concurrent version that conflicts
	Reason  string // what it did, e.g. "removed file x that this commit also removes"
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("conflict with concurrent commit v%d: %s", e.Version, e.Reason)
}

// UnsupportedError says that a table needs a protocol feature that lakectl does not
// implement. lakectl neither reads nor writes such a table.
type UnsupportedError struct {
	Feature string // e.g. "deletionVectors", "columnMapping", "reader version 3"
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("unsupported Delta feature: %s", e.Feature)
}

// ErrVersionExpired is returned when a table version can no longer be rebuilt: the
// commits it needs were removed by vacuum (time travel past the retention period).
var ErrVersionExpired = errors.New("table version expired")

// ErrVersionNotFound is returned when a table version does not exist yet, or when no
// version was committed at or before a requested time.
var ErrVersionNotFound = errors.New("table version not found")
