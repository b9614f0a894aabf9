package lake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"sync"

	"github.com/parquet-go/parquet-go"
	"golang.org/x/sync/errgroup"
)

// ProblemKind names what is wrong with a live data file.
type ProblemKind string

// The problems Check finds. Only a missing file is certain to hold nothing a reader
// can use; the others are files that exist but are not what the log says they are.
const (
	ProblemMissing    ProblemKind = "missing"    // the store has no object at the file's key
	ProblemUnreadable ProblemKind = "unreadable" // its Parquet footer does not parse
	ProblemSize       ProblemKind = "size"       // its size is not the add's size
	ProblemRows       ProblemKind = "rows"       // its row count is not stats.numRecords
)

// FileProblem is one live file that is not as the log says.
type FileProblem struct {
	File   Add
	Kind   ProblemKind
	Detail string // e.g. "1234 bytes, the log says 2345"
}

// CheckReport is what Check found in one snapshot.
type CheckReport struct {
	Version  int64
	Files    int           // live files checked
	Problems []FileProblem // sorted by path
}

// Missing returns the problems of kind ProblemMissing.
func (r CheckReport) Missing() []FileProblem {
	var out []FileProblem
	for _, p := range r.Problems {
		if p.Kind == ProblemMissing {
			out = append(out, p)
		}
	}
	return out
}

// Check verifies every live file of snap: that the store holds it, that its Parquet
// footer parses, and that its size and row count are those of its add (size and
// stats.numRecords, when the add has stats). Only the footer is read. A store error
// other than not-found fails the check rather than calling a file missing: a repair
// acts on what Check reports.
func (t *Table) Check(ctx context.Context, snap *Snapshot) (CheckReport, error) {
	files := snap.Files()
	rep := CheckReport{Version: snap.Version, Files: len(files)}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(readConcurrency)
	for _, a := range files {
		if a.IsAbsolute() {
			// Which key such a path means is guesswork; a repair must not guess.
			return CheckReport{}, fmt.Errorf("check %s v%d: live file %s has an absolute path, which check does not handle", t, snap.Version, a.Path)
		}
		g.Go(func() error {
			p, err := t.checkFile(gctx, a)
			if err != nil || p == nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			rep.Problems = append(rep.Problems, *p)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return CheckReport{}, fmt.Errorf("check %s v%d: %w", t, snap.Version, err)
	}
	sort.Slice(rep.Problems, func(i, j int) bool { return rep.Problems[i].File.Path < rep.Problems[j].File.Path })
	return rep, nil
}

// checkFile returns the problem of one live file, nil when it is as the log says.
func (t *Table) checkFile(ctx context.Context, a Add) (*FileProblem, error) {
	key := t.Key(a.DecodedPath())
	info, err := t.store.Stat(ctx, key)
	if errors.Is(err, fs.ErrNotExist) {
		detail := fmt.Sprintf("not in the store (the log says %d bytes", a.Size)
		if st, ok, err := a.ParseStats(); ok && err == nil {
			detail += fmt.Sprintf(", %d rows", st.NumRecords)
		}
		return &FileProblem{File: a, Kind: ProblemMissing, Detail: detail + ")"}, nil
	}
	if err != nil {
		return nil, err
	}
	r := &rangeReader{ctx: ctx, store: t.store, key: key}
	f, err := parquet.OpenFile(r, info.Size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if r.err != nil {
		return nil, r.err // the store failed, which says nothing about the file
	}
	if err != nil {
		return &FileProblem{File: a, Kind: ProblemUnreadable, Detail: fmt.Sprintf("Parquet footer: %v", err)}, nil
	}
	if info.Size != a.Size {
		return &FileProblem{File: a, Kind: ProblemSize, Detail: fmt.Sprintf("%d bytes, the log says %d", info.Size, a.Size)}, nil
	}
	st, ok, err := a.ParseStats()
	if err != nil {
		return &FileProblem{File: a, Kind: ProblemRows, Detail: fmt.Sprintf("the add's stats do not parse: %v", err)}, nil
	}
	if ok && st.NumRecords != f.NumRows() {
		return &FileProblem{File: a, Kind: ProblemRows, Detail: fmt.Sprintf("%d rows, the log says %d", f.NumRows(), st.NumRecords)}, nil
	}
	return nil, nil
}

// rangeReader reads an object with ranged gets, so that opening a Parquet file reads
// its footer only. It keeps the first store error apart from what the reads return,
// to tell a file that does not parse from a store that did not answer.
type rangeReader struct {
	ctx   context.Context
	store Store
	key   string
	mu    sync.Mutex
	err   error
}

func (r *rangeReader) ReadAt(p []byte, off int64) (int, error) {
	rc, err := r.store.GetRange(r.ctx, r.key, off, int64(len(p)))
	if err != nil {
		r.fail(err)
		return 0, err
	}
	defer rc.Close()
	n, err := io.ReadFull(rc, p)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return n, io.EOF
	case err != nil:
		r.fail(err)
	}
	return n, err
}

func (r *rangeReader) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = err
	}
}

// RepairResult says what Repair committed.
type RepairResult struct {
	Version int64 // the FSCK commit; -1 when nothing was left to remove
	Removed []Add // the files removed, sorted by path
	Skipped []Add // files of the request that are as the log says now (restored meanwhile)
}

// OperationFSCK is the operation that Repair records in commitInfo, as Delta's
// FSCK REPAIR TABLE does.
const OperationFSCK = "FSCK"

// Repair removes the given problem files from the table in one commit on top of snap,
// the snapshot they were found in, so that readers stop failing on them. It checks
// each file again first and keeps those that are as the log says now (a file restored
// since the check). Their data stays in the store until vacuum, like any removed
// file's. A concurrent commit that removed one of them too makes the repair fail
// with a *ConflictError; check again then.
func (t *Table) Repair(ctx context.Context, snap *Snapshot, problems []FileProblem) (RepairResult, error) {
	res := RepairResult{Version: -1}
	if err := checkWrite(snap.Protocol, &snap.Metadata); err != nil {
		return res, fmt.Errorf("repair %s: %w", t, err)
	}
	for _, p := range problems {
		now, err := t.checkFile(ctx, p.File)
		if err != nil {
			return res, fmt.Errorf("repair %s: check %s again: %w", t, p.File.DecodedPath(), err)
		}
		if now == nil {
			res.Skipped = append(res.Skipped, p.File)
			continue
		}
		res.Removed = append(res.Removed, p.File)
	}
	if len(res.Removed) == 0 {
		return res, nil
	}
	sort.Slice(res.Removed, func(i, j int) bool { return res.Removed[i].Path < res.Removed[j].Path })
	tx := t.Begin(snap)
	paths := make([]string, len(res.Removed))
	at := t.now()
	for i, a := range res.Removed {
		tx.Remove(a.RemoveAt(at))
		paths[i] = a.DecodedPath()
	}
	tx.Operation(OperationFSCK, map[string]any{"numRemovedFiles": len(paths)})
	tx.Info("removedFiles", paths)
	v, err := tx.Commit(ctx)
	if err != nil {
		return RepairResult{Version: -1, Skipped: res.Skipped}, err
	}
	res.Version = v
	return res, nil
}
