package lake

import (
	"net/url"
	"sort"
	"strings"
	"time"
)

// Snapshot is the state of a table at one version: what a replay of its log up to
// that version yields. It is immutable.
type Snapshot struct {
	Version   int64
	Timestamp time.Time // commit time of Version
	Protocol  Protocol
	Metadata  Metadata

	state      *state
	checkpoint int64 // the checkpoint version this snapshot was built from, -1 for none
}

// Files returns the live data files sorted by path. Paths are as in the log
// (URL-encoded); DecodedPath gives the path relative to the table root.
func (s *Snapshot) Files() []Add {
	if s.state == nil {
		return nil
	}
	out := make([]Add, 0, len(s.state.files))
	for _, a := range s.state.files {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// NumFiles returns the number of live data files.
func (s *Snapshot) NumFiles() int {
	if s.state == nil {
		return 0
	}
	return len(s.state.files)
}

// File returns the live file with this decoded path.
func (s *Snapshot) File(decodedPath string) (Add, bool) {
	if s.state == nil {
		return Add{}, false
	}
	a, ok := s.state.files[decodedPath]
	return a, ok
}

// Tombstones returns the removes the snapshot still remembers (those a checkpoint
// kept, and all since), sorted by path. Vacuum keeps their files until they expire.
func (s *Snapshot) Tombstones() []Remove {
	if s.state == nil {
		return nil
	}
	out := make([]Remove, 0, len(s.state.tombstones))
	for _, r := range s.state.tombstones {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// TxnVersion returns the latest txn version recorded for appID; false when there is
// none, or when the table's txn retention expired it (see TxnRetention).
func (s *Snapshot) TxnVersion(appID string) (int64, bool) {
	if s.state == nil {
		return 0, false
	}
	t, ok := s.state.txns[appID]
	return t.Version, ok
}

// Txns returns the latest txn version of every appID that has not expired.
func (s *Snapshot) Txns() map[string]int64 {
	if s.state == nil {
		return map[string]int64{}
	}
	out := make(map[string]int64, len(s.state.txns))
	for id, t := range s.state.txns {
		out[id] = t.Version
	}
	return out
}

// TxnRetention returns the table's rule for expiring txn entries (see
// PropTxnRetentionPrefixes); a loaded snapshot has already dropped what it expires.
func (s *Snapshot) TxnRetention() (TxnRetention, error) {
	return ParseTxnRetention(s.Metadata.Configuration)
}

// Schema parses Metadata.SchemaString.
func (s *Snapshot) Schema() (*Schema, error) { return ParseSchema(s.Metadata.SchemaString) }

// PartitionColumns returns the table's partition columns, in order.
func (s *Snapshot) PartitionColumns() []string { return s.Metadata.PartitionColumns }

// DecodedPath returns the file's path with the log's URL encoding undone: for a
// relative path, the path below the table root.
func (a Add) DecodedPath() string { return decodePath(a.Path) }

// DecodedPath returns the file's path with the log's URL encoding undone.
func (r Remove) DecodedPath() string { return decodePath(r.Path) }

// IsAbsolute reports whether the path is an absolute URL rather than relative to the
// table root.
func (a Add) IsAbsolute() bool { return isAbsolutePath(a.Path) }

func decodePath(p string) string {
	d, err := url.PathUnescape(p)
	if err != nil {
		return p
	}
	return d
}

func isAbsolutePath(p string) bool {
	scheme, _, ok := strings.Cut(p, "://")
	return ok && !strings.ContainsAny(scheme, "/%")
}

// EncodePath URL-encodes a path relative to the table root for an Add or Remove, as
// the protocol requires: each segment escaped, slashes kept.
func EncodePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// RemoveAt returns the remove action that takes a out of the table at time t, with
// its partition values and size kept (extended file metadata).
func (a Add) RemoveAt(t time.Time) Remove {
	return Remove{
		Path:                 a.Path,
		DeletionTimestamp:    t.UnixMilli(),
		DataChange:           true,
		ExtendedFileMetadata: true,
		PartitionValues:      a.PartitionValues,
		Size:                 a.Size,
		Tags:                 a.Tags,
	}
}

// A Snapshot made by hand (not loaded) has no state: it reads as an empty table.

// state is the result of replaying actions: the reconciliation the protocol defines.
// Files and tombstones are keyed by decoded path, so two spellings of one path meet.
type state struct {
	protocol   *Protocol
	metadata   *Metadata
	files      map[string]Add
	tombstones map[string]Remove
	txns       map[string]Txn
}

func newState() *state {
	return &state{files: map[string]Add{}, tombstones: map[string]Remove{}, txns: map[string]Txn{}}
}

// apply replays one action on the state.
func (s *state) apply(a Action) {
	switch {
	case a.Add != nil:
		p := a.Add.DecodedPath()
		s.files[p] = *a.Add
		delete(s.tombstones, p)
	case a.Remove != nil:
		p := a.Remove.DecodedPath()
		delete(s.files, p)
		s.tombstones[p] = *a.Remove
	case a.Metadata != nil:
		md := *a.Metadata
		s.metadata = &md
	case a.Protocol != nil:
		p := *a.Protocol
		s.protocol = &p
	case a.Txn != nil:
		s.txns[a.Txn.AppID] = *a.Txn
	}
}
