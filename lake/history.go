package lake

import (
	"context"
	"fmt"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"
)

// CommitSummary describes one commit, from its commitInfo and its actions.
type CommitSummary struct {
	Version      int64
	Timestamp    time.Time // commitInfo.timestamp, else the commit file's time
	Operation    string
	Parameters   map[string]any // commitInfo.operationParameters
	FilesAdded   int
	FilesRemoved int
	Info         CommitInfo // the whole commitInfo (lineage facts included); nil if none
}

// History summarizes every commit the log still holds, oldest first. Commits that
// vacuum expired are not listed.
func (t *Table) History(ctx context.Context) ([]CommitSummary, error) {
	return t.HistoryFrom(ctx, 0)
}

// HistoryFrom is History of the commits from version from on, oldest first: what a
// reader that has seen the versions before from has not. It lists and reads only
// that part of the log, so its cost follows the new commits, not the table's age.
// With from > 0 and no such commit it returns none (the table may or may not exist).
func (t *Table) HistoryFrom(ctx context.Context, from int64) ([]CommitSummary, error) {
	l, err := t.listLog(ctx, from)
	if err != nil {
		return nil, err
	}
	if l.latest() < 0 {
		if from > 0 {
			return nil, nil
		}
		return nil, fmt.Errorf("history of %s: %w", t, ErrNoTable)
	}
	var versions []int64
	for _, v := range sortedVersions(l.commits) {
		if v >= from {
			versions = append(versions, v)
		}
	}
	out := make([]CommitSummary, len(versions))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(readConcurrency)
	for i, v := range versions {
		g.Go(func() error {
			actions, err := t.readCommit(gctx, v)
			if err != nil {
				return err
			}
			out[i] = summarize(v, actions, l.commits[v])
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("history of %s: %w", t, err)
	}
	return out, nil
}

func summarize(v int64, actions []Action, info ObjectInfo) CommitSummary {
	s := CommitSummary{Version: v, Timestamp: commitTime(actions, info)}
	for _, a := range actions {
		switch {
		case a.Add != nil:
			s.FilesAdded++
		case a.Remove != nil:
			s.FilesRemoved++
		case a.CommitInfo != nil:
			s.Info = *a.CommitInfo
			s.Operation, _ = s.Info["operation"].(string)
			s.Parameters, _ = s.Info["operationParameters"].(map[string]any)
		}
	}
	return s
}

func sortedVersions(m map[int64]ObjectInfo) []int64 {
	out := make([]int64, 0, len(m))
	for v := range m {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// AsOf loads the latest version whose commit time is at or before at (time travel by
// timestamp). Commit times come from commitInfo.timestamp, or the commit file's time
// when a commit has none; they are taken to grow with the version, as they do for
// commits made by one clock, so AsOf reads O(log n) commits. It fails with
// ErrVersionNotFound when at is before the table's first commit or in the future (a
// later commit could still change the answer), and with ErrVersionExpired when the
// versions of that time were vacuumed.
func (t *Table) AsOf(ctx context.Context, at time.Time) (*Snapshot, error) {
	l, err := t.listLog(ctx, 0)
	if err != nil {
		return nil, err
	}
	if l.latest() < 0 {
		return nil, fmt.Errorf("load %s as of %s: %w", t, at.Format(time.RFC3339), ErrNoTable)
	}
	if now := t.now(); at.After(now) {
		return nil, fmt.Errorf("load %s as of %s: %w: that time is in the future (now %s)",
			t, at.UTC().Format(time.RFC3339), ErrVersionNotFound, now.UTC().Format(time.RFC3339))
	}
	// Only versions that can still be rebuilt are candidates: from commit 0 when it is
	// there, else from the oldest checkpoint.
	base := int64(0)
	if _, ok := l.commits[0]; !ok {
		cps := l.checkpointsAtOrBelow(l.latest())
		if len(cps) == 0 {
			return nil, fmt.Errorf("load %s as of %s: %w: no checkpoint and no commit v0", t, at.Format(time.RFC3339), ErrVersionExpired)
		}
		base = cps[len(cps)-1]
	}
	var versions []int64
	for _, v := range sortedVersions(l.commits) {
		if v >= base {
			versions = append(versions, v)
		}
	}
	timeOf := func(v int64) (time.Time, error) {
		actions, err := t.readCommit(ctx, v)
		if err != nil {
			return time.Time{}, err
		}
		return commitTime(actions, l.commits[v]), nil
	}
	// Binary search for the first version committed after at.
	lo, hi := 0, len(versions)
	for lo < hi {
		mid := (lo + hi) / 2
		ts, err := timeOf(versions[mid])
		if err != nil {
			return nil, fmt.Errorf("load %s as of %s: %w", t, at.Format(time.RFC3339), err)
		}
		if ts.After(at) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	if lo == 0 {
		reason := ErrVersionNotFound
		if base > 0 {
			reason = ErrVersionExpired
		}
		first := "none"
		if len(versions) > 0 {
			ts, _ := timeOf(versions[0])
			first = fmt.Sprintf("v%d at %s", versions[0], ts.UTC().Format(time.RFC3339))
		}
		return nil, fmt.Errorf("load %s as of %s: %w: no version committed at or before that time (earliest available %s)",
			t, at.UTC().Format(time.RFC3339), reason, first)
	}
	return t.At(ctx, versions[lo-1])
}
