package catalog

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/lake"
)

// Plan is what a statement reads of a table: the files of a snapshot that it can
// need.
type Plan struct {
	Source Source
	Snap   *lake.Snapshot
	Adds   []lake.Add
	Report engine.PruneReport // how pruning chose Adds; zero when the caller chose
}

// Plan loads table n and prunes its files for uq (engine.Session.Prune). It returns
// nil, nil when nothing has written the table yet, so DuckDB then says that it does
// not exist. Errors wrap the store's: lake.ErrVersionNotFound when the table has no
// version that Config.At selects.
func (c *Catalog) Plan(ctx context.Context, sess *engine.Session, uq *engine.UserSQL, n engine.TableName) (*Plan, error) {
	src, ok := c.Source(n)
	if !ok {
		return nil, fmt.Errorf("%s: not a table of the lake", n)
	}
	snap, err := c.Snapshot(ctx, n)
	switch {
	case errors.Is(err, lake.ErrNoTable):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("%s: %w", n, err)
	}
	adds, rep, err := sess.Prune(ctx, uq, n, snap, snap.Files())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", n, err)
	}
	return &Plan{Source: src, Snap: snap, Adds: adds, Report: rep}, nil
}

// PlanAll runs plan for every name at once, so that each table's log is read while
// the others' are, and returns the plans in the order of names; an error is the first
// name's that failed, in that order, whichever failed first in time.
func PlanAll(names []engine.TableName, plan func(engine.TableName) (*Plan, error)) ([]*Plan, error) {
	plans := make([]*Plan, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Go(func() { plans[i], errs[i] = plan(n) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, e := range errs {
			if e != nil {
				return nil, e
			}
		}
	}
	return plans, nil
}

// Covers reports whether p's files include every file of o.
func (p *Plan) Covers(o *Plan) bool {
	have := map[string]bool{}
	for _, a := range p.Adds {
		have[a.Path] = true
	}
	for _, a := range o.Adds {
		if !have[a.Path] {
			return false
		}
	}
	return true
}

// Merge adds the files of o that p lacks, in the log's order.
func (p *Plan) Merge(o *Plan) {
	if p.Covers(o) {
		return
	}
	have := map[string]bool{}
	for _, a := range p.Adds {
		have[a.Path] = true
	}
	for _, a := range o.Adds {
		have[a.Path] = true
	}
	p.Adds = p.Adds[:0:0]
	for _, a := range p.Snap.Files() {
		if have[a.Path] {
			p.Adds = append(p.Adds, a)
		}
	}
}

// fetchConcurrency bounds the files that Fetch brings in at once, across tables: as
// many as a registration fetches of one table.
const fetchConcurrency = 16

// Fetch brings the files of plans into their caches at once, across tables, so that
// registering the tables one after another finds them there: a statement that joins
// tables of an S3 lake waits for its slowest files, not for each table's in turn. It
// pins what it fetched until release is called, after the registration. A file it
// cannot fetch is left to the registration, which names it in its error. A single
// plan is left to its registration, which fetches as many files at once.
func Fetch(ctx context.Context, plans []*Plan) (release func()) {
	if len(plans) < 2 {
		return func() {}
	}
	var mu sync.Mutex
	var releases []func()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(fetchConcurrency)
	for _, p := range plans {
		if p == nil || p.Source.Cache == nil {
			continue
		}
		files := engine.TableFiles(p.Source.Table, p.Source.Cache)
		for _, a := range p.Adds {
			g.Go(func() error {
				if _, rel, err := files.LocalFile(gctx, a); err == nil {
					mu.Lock()
					releases = append(releases, rel)
					mu.Unlock()
				}
				return nil
			})
		}
	}
	g.Wait()
	return func() {
		for _, r := range releases {
			r()
		}
	}
}

// Register registers the files of plan as table n in sess (schema main for a name
// without one). The error names the table; *engine.MissingFileError when a file
// the log names is not in the store.
func Register(ctx context.Context, sess *engine.Session, n engine.TableName, plan *Plan) error {
	schema := n.Schema
	if schema == "" {
		schema = "main"
	}
	err := sess.RegisterFiles(ctx, schema, n.Name, plan.Snap, plan.Adds, engine.TableFiles(plan.Source.Table, plan.Source.Cache))
	if missing := (*engine.MissingFileError)(nil); errors.As(err, &missing) {
		return fmt.Errorf("%s: %w", n, missing) // the file and version say it all
	}
	if err != nil {
		return fmt.Errorf("%s: %w", n, err)
	}
	return nil
}
