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

// ErrCorruptCommit matches every *CorruptCommitError.
var ErrCorruptCommit = errors.New("corrupt commit file")

// CorruptCommitError says that a JSON commit of the log is not a valid commit: the
// file is empty, or a line is not a JSON action. What that version did is unknown, so
// no snapshot that replays it can be built and vacuum deletes nothing from the table:
// a lost add would make a live file look unreferenced.
type CorruptCommitError struct {
	Version int64
	Path    string // relative to the table root, e.g. "_delta_log/00000000000000000005.json"
	Line    int    // 1-based line at fault; 0 when the whole file is
	Reason  string // e.g. "empty commit file"
}

func (e *CorruptCommitError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s line %d: %s", e.Path, e.Line, e.Reason)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Reason)
}

func (e *CorruptCommitError) Is(target error) bool { return target == ErrCorruptCommit }
