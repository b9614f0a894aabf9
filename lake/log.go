package lake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

// logDir is the directory of a table's Delta log, relative to its root.
const logDir = "_delta_log/"

// lastCheckpointName is the hint file that names the newest checkpoint.
const lastCheckpointName = "_last_checkpoint"

func commitName(v int64) string     { return fmt.Sprintf("%020d.json", v) }
func checkpointName(v int64) string { return fmt.Sprintf("%020d.checkpoint.parquet", v) }

// logListing is what one listing of _delta_log found, by version.
type logListing struct {
	commits     map[int64]ObjectInfo
	checkpoints map[int64][]ObjectInfo // the parts of a complete checkpoint, in order
	from        int64                  // the listing started at this version (0: complete)
}

// latest returns the newest version the log holds, or -1 for none.
func (l *logListing) latest() int64 {
	v := int64(-1)
	for c := range l.commits {
		v = max(v, c)
	}
	for c := range l.checkpoints {
		v = max(v, c)
	}
	return v
}

// checkpointsAtOrBelow returns the versions of complete checkpoints <= v, newest first.
func (l *logListing) checkpointsAtOrBelow(v int64) []int64 {
	var out []int64
	for c := range l.checkpoints {
		if c <= v {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] > out[j] })
	return out
}

// listLog lists _delta_log from version from on (0 for all of it). It classifies
// JSON commits and classic checkpoints (single-file, or multi-part when every part is
// present) and ignores everything else: .crc files, temporary files, V2 checkpoints,
// compacted logs.
func (t *Table) listLog(ctx context.Context, from int64) (*logListing, error) {
	prefix := t.Key(logDir)
	startAfter := ""
	if from > 0 {
		// Every name of version v starts with its 20 digits, which sort after this.
		startAfter = prefix + fmt.Sprintf("%020d", from)
	}
	objs, err := t.store.List(ctx, prefix, startAfter)
	if err != nil {
		return nil, fmt.Errorf("list log of %s: %w", t, err)
	}
	l := &logListing{commits: map[int64]ObjectInfo{}, checkpoints: map[int64][]ObjectInfo{}, from: max(from, 0)}
	type partSet struct {
		n     int
		parts map[int]ObjectInfo
	}
	multi := map[int64]map[int]*partSet{} // version -> number of parts -> parts seen
	for _, o := range objs {
		name := strings.TrimPrefix(o.Key, prefix)
		if len(name) < 21 || name[20] != '.' {
			continue
		}
		v, err := strconv.ParseInt(name[:20], 10, 64)
		if err != nil {
			continue
		}
		rest := name[21:]
		switch {
		case rest == "json":
			l.commits[v] = o
		case rest == "checkpoint.parquet":
			l.checkpoints[v] = []ObjectInfo{o}
		case strings.HasPrefix(rest, "checkpoint.") && strings.HasSuffix(rest, ".parquet"):
			// Multi-part: checkpoint.%010d.%010d.parquet (part, number of parts).
			mid := strings.TrimSuffix(strings.TrimPrefix(rest, "checkpoint."), ".parquet")
			ps, ns, ok := strings.Cut(mid, ".")
			part, err1 := strconv.Atoi(ps)
			n, err2 := strconv.Atoi(ns)
			if !ok || err1 != nil || err2 != nil || len(ps) != 10 || part < 1 || part > n {
				continue // a V2 checkpoint (UUID-named) or something else
			}
			if multi[v] == nil {
				multi[v] = map[int]*partSet{}
			}
			if multi[v][n] == nil {
				multi[v][n] = &partSet{n: n, parts: map[int]ObjectInfo{}}
			}
			multi[v][n].parts[part] = o
		}
	}
	for v, sets := range multi {
		if _, ok := l.checkpoints[v]; ok {
			continue
		}
		for _, s := range sets {
			if len(s.parts) != s.n {
				continue
			}
			parts := make([]ObjectInfo, s.n)
			for i := range s.n {
				parts[i] = s.parts[i+1]
			}
			l.checkpoints[v] = parts
			break
		}
	}
	return l, nil
}

// lastCheckpoint is the content of _delta_log/_last_checkpoint.
type lastCheckpoint struct {
	Version int64  `json:"version"`
	Size    int64  `json:"size"`
	Parts   *int64 `json:"parts,omitempty"`
}

// readLastCheckpoint returns the hint, ok false when there is none or it does not
// parse (the hint is an optimisation: a reader must work without it). A store that
// cannot be read is an error: the listing that would follow fails the same way, after
// as many retries again.
func (t *Table) readLastCheckpoint(ctx context.Context) (lastCheckpoint, bool, error) {
	data, err := ReadAll(ctx, t.store, t.Key(logDir+lastCheckpointName))
	if errors.Is(err, fs.ErrNotExist) {
		return lastCheckpoint{}, false, nil
	}
	if err != nil {
		return lastCheckpoint{}, false, err // the store's errors name the key
	}
	var lc lastCheckpoint
	if err := json.Unmarshal(bytes.TrimSpace(data), &lc); err != nil || lc.Version < 0 {
		t.logger.Warn("parse _last_checkpoint", "err", err)
		return lastCheckpoint{}, false, nil
	}
	return lc, true, nil
}

// parseCommit decodes a JSON commit: one action per line, blank lines skipped. A file
// without an action, or with a line that is not one JSON action, is a
// *CorruptCommitError (readCommit fills in which file).
func parseCommit(data []byte) ([]Action, error) {
	var actions []Action
	for n, line := range bytes.Split(data, []byte{'\n'}) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		a, err := parseAction(line)
		if err != nil {
			return nil, &CorruptCommitError{Line: n + 1, Reason: err.Error()}
		}
		actions = append(actions, a)
	}
	switch {
	case len(data) == 0:
		return nil, &CorruptCommitError{Reason: "empty commit file"}
	case len(actions) == 0:
		return nil, &CorruptCommitError{Reason: "commit file holds no action"}
	}
	return actions, nil
}

// parseAction decodes one line of a commit: a JSON object with one action in it. An
// action type lakectl does not know (cdc, domainMetadata, ...) decodes to an empty
// Action and is skipped by every reader, as the protocol asks; an object with no
// action at all, or a null one, is refused.
func parseAction(line []byte) (Action, error) {
	var a Action
	if line[0] != '{' {
		return a, errors.New("not a JSON action: not a JSON object")
	}
	if err := json.Unmarshal(line, &a); err != nil {
		return a, fmt.Errorf("not a JSON action: %w", err)
	}
	switch known := a.count(); {
	case known > 1:
		return a, errors.New("more than one action on one line")
	case known == 0:
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(line, &obj); err != nil {
			return a, fmt.Errorf("not a JSON action: %w", err)
		}
		if len(obj) == 0 {
			return a, errors.New("not a JSON action: empty object")
		}
		for k, v := range obj {
			if string(v) == "null" {
				return a, fmt.Errorf("action %q is null", k)
			}
		}
	}
	if (a.Add != nil && a.Add.Path == "") || (a.Remove != nil && a.Remove.Path == "") {
		return a, errors.New("add or remove without a path")
	}
	return a, nil
}

// readCommit reads and decodes the JSON commit of version v. A commit that is not a
// valid one fails with a *CorruptCommitError naming the file.
func (t *Table) readCommit(ctx context.Context, v int64) ([]Action, error) {
	data, err := ReadAll(ctx, t.store, t.Key(logDir+commitName(v)))
	if err != nil {
		return nil, fmt.Errorf("read commit %s v%d: %w", t, v, err)
	}
	actions, err := parseCommit(data)
	if err != nil {
		var corrupt *CorruptCommitError
		if errors.As(err, &corrupt) {
			corrupt.Version, corrupt.Path = v, logDir+commitName(v)
		}
		return nil, err
	}
	return actions, nil
}

// commitTime is the time of a commit: its commitInfo.timestamp when it has one,
// otherwise the commit file's modification time.
func commitTime(actions []Action, info ObjectInfo) time.Time {
	for _, a := range actions {
		if a.CommitInfo == nil {
			continue
		}
		if ts, ok := infoMillis((*a.CommitInfo)["timestamp"]); ok {
			return time.UnixMilli(ts)
		}
	}
	return info.ModTime
}

// infoMillis reads a number that JSON decoding left as float64 (or json.Number).
func infoMillis(v any) (int64, bool) {
	switch x := v.(type) {
	case float64:
		return int64(x), true
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	case int64:
		return x, true
	}
	return 0, false
}
