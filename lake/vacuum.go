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

	"golang.org/x/sync/errgroup"
)

// defaultRetention is Delta's customary retention period: a week.
const defaultRetention = 168 * time.Hour

// VacuumOptions configures Vacuum.
type VacuumOptions struct {
	// Retain is how long removed files and old commits are kept, so that readers of
	// older snapshots and time travel within the period still find them. Zero means
	// the default, 168h; negative is an error.
	Retain time.Duration
	// DryRun lists what would be deleted and deletes nothing.
	DryRun bool
	// Now is the time retention counts back from; zero means the table's clock.
	Now time.Time
}

// VacuumResult lists what Vacuum deleted (or, in a dry run, would delete).
type VacuumResult struct {
	Files     []ObjectInfo // data files first, then log files, each sorted by key
	DataFiles int
	LogFiles  int
}

// Vacuum deletes what no version within the retention period needs:
//
//   - data files under the table root that the latest snapshot does not reference, that
//     no tombstone younger than Retain names, and that are older than Retain
//     (files and directories whose names start with '_' or '.' are never touched);
//   - JSON commits and checkpoints older than the newest checkpoint that is itself
//     older than Retain, so the log a reader needs (that checkpoint and every commit
//     after it) stays. _last_checkpoint is never deleted; when it names a checkpoint
//     that goes (two writers checkpointing at once can leave it naming the older
//     one), it is first pointed at the checkpoint kept.
//
// It refuses tables that lakectl cannot write, and deletes nothing from a table whose
// log holds a corrupt commit (ErrCorruptCommit), wherever in the log it is: it reads
// every JSON commit before it deletes anything, since a commit whose adds or removes
// are lost makes files look unreferenced that a version still needs.
func (t *Table) Vacuum(ctx context.Context, opts VacuumOptions) (VacuumResult, error) {
	var res VacuumResult
	retain := opts.Retain
	if retain < 0 {
		return res, fmt.Errorf("vacuum %s: negative retention %s", t, retain)
	}
	if retain == 0 {
		retain = defaultRetention
	}
	now := opts.Now
	if now.IsZero() {
		now = t.now()
	}
	cutoff := now.Add(-retain)
	snap, err := t.Latest(ctx)
	if err != nil {
		return res, t.vacuumError(err)
	}
	if err := checkWrite(snap.Protocol, &snap.Metadata); err != nil {
		return res, fmt.Errorf("vacuum %s: %w", t, err)
	}
	data, err := t.vacuumData(ctx, snap, cutoff)
	if err != nil {
		return res, err
	}
	logs, kept, err := t.vacuumLog(ctx, cutoff)
	if err != nil {
		return res, err
	}
	res = VacuumResult{Files: append(data, logs...), DataFiles: len(data), LogFiles: len(logs)}
	if opts.DryRun {
		return res, nil
	}
	if kept != nil {
		if err := t.repointLastCheckpoint(ctx, *kept); err != nil {
			return VacuumResult{}, fmt.Errorf("vacuum %s: %w", t, err)
		}
	}
	for i, o := range res.Files {
		if err := ctx.Err(); err != nil {
			return VacuumResult{Files: res.Files[:i]}, fmt.Errorf("vacuum %s: %w", t, err)
		}
		if err := t.store.Delete(ctx, o.Key); err != nil {
			return VacuumResult{Files: res.Files[:i]}, fmt.Errorf("vacuum %s: delete %s: %w", t, o.Key, err)
		}
	}
	return res, nil
}

// vacuumData returns the data files to delete.
func (t *Table) vacuumData(ctx context.Context, snap *Snapshot, cutoff time.Time) ([]ObjectInfo, error) {
	keep := make(map[string]bool, snap.NumFiles())
	for _, a := range snap.state.files {
		if a.IsAbsolute() {
			// Such a path may point into the table under another spelling: matching it
			// to a key is guesswork, and guessing wrong deletes live data.
			return nil, fmt.Errorf("vacuum %s: live file %s has an absolute path, which vacuum does not handle", t, a.Path)
		}
		keep[a.DecodedPath()] = true
	}
	for p, r := range snap.state.tombstones {
		if r.DeletionTimestamp >= cutoff.UnixMilli() {
			keep[p] = true
		}
	}
	// A checkpoint keeps only the tombstones of its writer's retention (a week here,
	// delta.deletedFileRetentionDuration elsewhere): removes younger than this vacuum's
	// retention may have been folded away, so read them from the commits still in the log.
	folded, err := t.checkpointedRemoves(ctx, snap.Version, cutoff)
	if err != nil {
		return nil, err
	}
	for _, p := range folded {
		keep[p] = true
	}
	prefix := ""
	if t.root != "" {
		prefix = t.root + "/"
	}
	objs, err := t.store.List(ctx, prefix, "")
	if err != nil {
		return nil, fmt.Errorf("vacuum %s: list files: %w", t, err)
	}
	var out []ObjectInfo
	for _, o := range objs {
		rel := strings.TrimPrefix(o.Key, prefix)
		if hiddenPath(rel) || keep[rel] || !o.ModTime.Before(cutoff) {
			continue
		}
		out = append(out, o)
	}
	return out, nil
}

// checkpointedRemoves returns the decoded paths of the files removed at or after
// cutoff by the JSON commits up to the newest checkpoint at or below version: the
// removes a snapshot loaded from that checkpoint may not know. Reading them is also
// what checks, together with the load of version, that no commit of the log is corrupt.
func (t *Table) checkpointedRemoves(ctx context.Context, version int64, cutoff time.Time) ([]string, error) {
	l, err := t.listLog(ctx, 0)
	if err != nil {
		return nil, fmt.Errorf("vacuum %s: %w", t, err)
	}
	cps := l.checkpointsAtOrBelow(version)
	if len(cps) == 0 {
		return nil, nil // the snapshot replayed every commit: it knows every remove
	}
	var versions []int64
	for v := range l.commits {
		if v <= cps[0] {
			versions = append(versions, v)
		}
	}
	found := make([][]string, len(versions))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(readConcurrency)
	for i, v := range versions {
		g.Go(func() error {
			actions, err := t.readCommit(gctx, v)
			if errors.Is(err, fs.ErrNotExist) {
				return nil // expired by a concurrent vacuum: older than any retention
			}
			if err != nil {
				return err
			}
			for _, a := range actions {
				if a.Remove != nil && a.Remove.DeletionTimestamp >= cutoff.UnixMilli() {
					found[i] = append(found[i], a.Remove.DecodedPath())
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, t.vacuumError(err)
	}
	var out []string
	for _, ps := range found {
		out = append(out, ps...)
	}
	return out, nil
}

// vacuumError names the table and, for a corrupt commit, says why nothing is deleted.
func (t *Table) vacuumError(err error) error {
	if errors.Is(err, ErrCorruptCommit) {
		return fmt.Errorf("vacuum %s: refusing to delete anything while the log has a corrupt commit: %w", t, err)
	}
	return fmt.Errorf("vacuum %s: %w", t, err)
}

// hiddenPath reports whether any component of a path starts with '_' or '.': the log,
// and what other engines keep beside the data (_SUCCESS, .crc files, staging dirs).
func hiddenPath(rel string) bool {
	for _, c := range strings.Split(rel, "/") {
		if strings.HasPrefix(c, "_") || strings.HasPrefix(c, ".") {
			return true
		}
	}
	return false
}

// vacuumLog returns the log files to delete: those of versions below the newest
// readable checkpoint that is older than cutoff, and the _last_checkpoint content that
// names that checkpoint (nil when nothing expires).
func (t *Table) vacuumLog(ctx context.Context, cutoff time.Time) ([]ObjectInfo, *lastCheckpoint, error) {
	l, err := t.listLog(ctx, 0)
	if err != nil {
		return nil, nil, err
	}
	keepFrom := int64(-1)
	var kept *lastCheckpoint
	for _, cp := range l.checkpointsAtOrBelow(l.latest()) {
		parts := l.checkpoints[cp]
		if !parts[0].ModTime.Before(cutoff) {
			continue
		}
		st, err := t.readCheckpoint(ctx, parts)
		if err != nil {
			t.logger.Warn("vacuum: checkpoint unreadable, not expiring the log before it", "version", cp, "err", err)
			continue
		}
		keepFrom = cp
		kept = &lastCheckpoint{Version: cp, Size: st.actions()}
		if n := int64(len(parts)); n > 1 {
			kept.Parts = &n
		}
		break
	}
	if keepFrom <= 0 {
		return nil, nil, nil
	}
	prefix := t.Key(logDir)
	objs, err := t.store.List(ctx, prefix, "")
	if err != nil {
		return nil, nil, fmt.Errorf("vacuum %s: list log: %w", t, err)
	}
	var out []ObjectInfo
	for _, o := range objs {
		name := strings.TrimPrefix(o.Key, prefix)
		if len(name) < 21 || name[20] != '.' || !o.ModTime.Before(cutoff) {
			continue
		}
		v, err := strconv.ParseInt(name[:20], 10, 64)
		if err != nil || v >= keepFrom {
			continue
		}
		rest := name[21:]
		if rest == "json" || rest == "crc" || (strings.HasPrefix(rest, "checkpoint.") && strings.HasSuffix(rest, ".parquet")) {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, kept, nil
}

// repointLastCheckpoint writes kept as _last_checkpoint when the hint names an older
// checkpoint, which vacuum is about to delete. An absent hint stays absent.
func (t *Table) repointLastCheckpoint(ctx context.Context, kept lastCheckpoint) error {
	lc, ok, err := t.readLastCheckpoint(ctx)
	if err != nil || !ok || lc.Version >= kept.Version {
		return err
	}
	hint, err := json.Marshal(kept)
	if err != nil {
		return err
	}
	if err := t.store.Put(ctx, t.Key(logDir+lastCheckpointName), bytes.NewReader(hint), int64(len(hint))); err != nil {
		return fmt.Errorf("point _last_checkpoint at v%d: %w", kept.Version, err)
	}
	return nil
}

// actions returns how many actions a checkpoint of the state holds: protocol,
// metadata, txns, files and tombstones.
func (s *state) actions() int64 {
	return 2 + int64(len(s.txns)+len(s.files)+len(s.tombstones))
}
