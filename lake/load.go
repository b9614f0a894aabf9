package lake

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"golang.org/x/sync/errgroup"
)

// readConcurrency bounds the commit files read at once while replaying, which matters
// on object stores where each read is a round trip.
const readConcurrency = 16

// errNeedFullListing says that a listing started at _last_checkpoint's version did not
// hold what the load needs, and the whole log must be listed.
var errNeedFullListing = errors.New("need a full log listing")

// Latest loads the newest snapshot; ErrNoTable when there is no log.
func (t *Table) Latest(ctx context.Context) (*Snapshot, error) { return t.load(ctx, -1) }

// At loads the snapshot of a version. It fails with ErrVersionNotFound for a version
// that does not exist yet and with ErrVersionExpired for one whose log vacuum removed.
func (t *Table) At(ctx context.Context, version int64) (*Snapshot, error) {
	if version < 0 {
		return nil, fmt.Errorf("load %s v%d: %w", t, version, ErrVersionNotFound)
	}
	return t.load(ctx, version)
}

// load builds the snapshot of version target (-1: the latest). It lists the log from
// the checkpoint that _last_checkpoint names when that helps, reads the newest
// complete checkpoint at or below target, and replays the JSON commits after it.
func (t *Table) load(ctx context.Context, target int64) (*Snapshot, error) {
	from := int64(0)
	lc, ok, err := t.readLastCheckpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", t, err)
	}
	if ok && (target < 0 || lc.Version <= target) {
		from = lc.Version
	}
	l, err := t.listLog(ctx, from)
	if err != nil {
		return nil, err
	}
	snap, err := t.build(ctx, l, target)
	if errors.Is(err, errNeedFullListing) {
		// A stale or wrong hint: list everything and decide again.
		if l, err = t.listLog(ctx, 0); err != nil {
			return nil, err
		}
		snap, err = t.build(ctx, l, target)
	}
	return snap, err
}

// build loads version target from what listing l found.
func (t *Table) build(ctx context.Context, l *logListing, target int64) (*Snapshot, error) {
	latest := l.latest()
	if latest < 0 {
		if l.from > 0 {
			return nil, errNeedFullListing
		}
		return nil, fmt.Errorf("load %s: %w", t, ErrNoTable)
	}
	if target < 0 {
		target = latest
	}
	if target > latest {
		if l.from > 0 {
			return nil, errNeedFullListing
		}
		return nil, fmt.Errorf("load %s v%d: %w (latest is v%d)", t, target, ErrVersionNotFound, latest)
	}
	for _, cp := range l.checkpointsAtOrBelow(target) {
		if missing, ok := firstMissing(l, cp+1, target); !ok {
			return nil, fmt.Errorf("load %s v%d: the log has checkpoint v%d but no commit v%d", t, target, cp, missing)
		}
		st, err := t.readCheckpoint(ctx, l.checkpoints[cp])
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if !errors.Is(err, errBadCheckpoint) && !errors.Is(err, fs.ErrNotExist) {
				// The store failed to deliver it: falling back could call the version
				// expired, an answer callers take as final, for what a retry fixes.
				return nil, fmt.Errorf("load %s v%d: %w", t, target, err)
			}
			// A torn, foreign or vanished checkpoint: an older one, or the JSON
			// commits, still work.
			t.logger.Warn("skip unreadable checkpoint", "version", cp, "err", err)
			continue
		}
		return t.replay(ctx, l, st, cp, target)
	}
	if l.from > 0 {
		return nil, errNeedFullListing
	}
	if missing, ok := firstMissing(l, 0, target); !ok {
		earliest := int64(-1)
		if cps := l.checkpointsAtOrBelow(latest); len(cps) > 0 {
			earliest = cps[len(cps)-1]
		}
		return nil, fmt.Errorf("load %s v%d: %w: commit v%d was removed by vacuum (earliest available v%d)",
			t, target, ErrVersionExpired, missing, earliest)
	}
	return t.replay(ctx, l, newState(), -1, target)
}

// firstMissing returns the first version in [from, to] without a JSON commit.
func firstMissing(l *logListing, from, to int64) (int64, bool) {
	for v := from; v <= to; v++ {
		if _, ok := l.commits[v]; !ok {
			return v, false
		}
	}
	return 0, true
}

// replay applies the JSON commits (cp, target] to st, the state at checkpoint cp (-1
// for none), checks that lakectl can read the result, and forgets the txns that the
// table's txn retention expires as of target's commit time (see txnretention.go).
func (t *Table) replay(ctx context.Context, l *logListing, st *state, cp, target int64) (*Snapshot, error) {
	commits := make([][]Action, target-cp)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(readConcurrency)
	for v := cp + 1; v <= target; v++ {
		g.Go(func() error {
			actions, err := t.readCommit(gctx, v)
			commits[v-cp-1] = actions
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("load %s v%d: %w", t, target, err)
	}
	for _, actions := range commits {
		for _, a := range actions {
			st.apply(a)
		}
	}
	ts, err := t.versionTime(ctx, l, commits, target)
	if err != nil {
		return nil, err
	}
	if st.protocol == nil || st.metadata == nil {
		return nil, fmt.Errorf("load %s v%d: the log has no protocol or metaData action", t, target)
	}
	if err := checkRead(*st.protocol, st.metadata); err != nil {
		return nil, fmt.Errorf("load %s v%d: %w", t, target, err)
	}
	// A snapshot that is exactly a checkpoint takes its txns as the checkpoint's writer
	// expired them: its time may come from the checkpoint file's modification time
	// when the commit is gone, which is later than the commit's own.
	if target > cp {
		if retention, err := ParseTxnRetention(st.metadata.Configuration); err != nil {
			// Keeping every txn is always safe; the table stays readable.
			t.logger.Warn("ignore malformed txn retention; no txn expires", "version", target, "err", err)
		} else {
			st.expireTxns(retention, ts)
		}
	}
	return &Snapshot{Version: target, Timestamp: ts, Protocol: *st.protocol, Metadata: *st.metadata, state: st, checkpoint: cp}, nil
}

// versionTime returns the commit time of version target, reading its commit when the
// replay did not (a snapshot that is exactly a checkpoint).
func (t *Table) versionTime(ctx context.Context, l *logListing, replayed [][]Action, target int64) (time.Time, error) {
	info, ok := l.commits[target]
	if len(replayed) > 0 {
		return commitTime(replayed[len(replayed)-1], info), nil
	}
	if !ok {
		return l.checkpoints[target][0].ModTime, nil
	}
	actions, err := t.readCommit(ctx, target)
	if err != nil {
		return time.Time{}, fmt.Errorf("load %s v%d: %w", t, target, err)
	}
	return commitTime(actions, info), nil
}
