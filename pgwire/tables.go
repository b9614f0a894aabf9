package pgwire

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"

	"github.com/lakectl/lakectl/catalog"
	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/pipeline"
)

// Tables pins the tables a query may read, to be registered into its session.
type Tables interface {
	// Pin pins every table of reads that exists to one snapshot, the latest, and
	// chooses its files: the tables uq names get at least the files uq can need, the
	// others none (so the catalog views list them, with their columns). sess serves
	// only to prune files; nothing is registered in it. The server has checked that
	// uq names no table of the lake outside reads; a table of reads that nothing has
	// written yet is left out.
	Pin(ctx context.Context, sess *engine.Session, uq *engine.UserSQL, reads []engine.TableName) (Pinned, error)
}

// Pinned are a query's tables, each at one snapshot with its files.
type Pinned interface {
	// Key is the same for two Pinned exactly when they register the same tables at
	// the same snapshots with the same files, so that a session they made answers
	// every query alike, catalog included.
	Key() string
	// Register registers the tables into sess, which is not yet sealed.
	Register(ctx context.Context, sess *engine.Session) error
}

// CatalogTables is Tables over the tables of a catalog. newCatalog is called once a
// query, so that each query reads the latest snapshots and holds them while it
// runs (a Catalog loads each snapshot once).
func CatalogTables(newCatalog func() *catalog.Catalog) Tables {
	return catalogTables(newCatalog)
}

type catalogTables func() *catalog.Catalog

func (f catalogTables) Pin(ctx context.Context, sess *engine.Session, uq *engine.UserSQL, reads []engine.TableName) (Pinned, error) {
	cat := f()
	for _, n := range reads {
		if _, ok := cat.Source(n); !ok {
			return nil, fmt.Errorf("%s: not a table of the lake", n)
		}
	}
	plans, err := catalog.PlanAll(reads, func(n engine.TableName) (*catalog.Plan, error) {
		if slices.Contains(uq.Tables, n) {
			return cat.Plan(ctx, sess, uq, n)
		}
		return emptyPlan(ctx, cat, n)
	})
	if err != nil {
		return nil, err
	}
	var pinned planned
	for i, n := range reads {
		if plans[i] != nil { // else nothing has written it yet
			pinned = append(pinned, namedPlan{n, plans[i]})
		}
	}
	return pinned, nil
}

type namedPlan struct {
	name engine.TableName
	plan *catalog.Plan
}

// planned is Pinned by the catalog's plans.
type planned []namedPlan

// Key names each table by its name, its root, its version and the commit time of
// that version (a table dropped and written again starts at version 0 again) and its
// files by a digest of their paths, in order: a Delta file is never rewritten in
// place.
func (p planned) Key() string {
	h := sha256.New()
	for _, np := range p {
		fmt.Fprintf(h, "%s\x00%s\x00%d\x00%d\x00%d\x00", np.name, np.plan.Source.Root, np.plan.Snap.Version,
			np.plan.Snap.Timestamp.UnixNano(), len(np.plan.Adds))
		for _, a := range np.plan.Adds {
			fmt.Fprintf(h, "%s\x00", a.Path)
		}
	}
	return string(h.Sum(nil))
}

func (p planned) Register(ctx context.Context, sess *engine.Session) error {
	plans := make([]*catalog.Plan, len(p))
	for i, np := range p {
		plans[i] = np.plan
	}
	release := catalog.Fetch(ctx, plans)
	defer release()
	for _, np := range p {
		if err := catalog.Register(ctx, sess, np.name, np.plan); err != nil {
			return err
		}
	}
	return nil
}

// emptyPlan is table n's schema without its files: nil when nothing has written it.
func emptyPlan(ctx context.Context, cat *catalog.Catalog, n engine.TableName) (*catalog.Plan, error) {
	snap, err := cat.Snapshot(ctx, n)
	switch {
	case errors.Is(err, lake.ErrNoTable):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("%s: %w", n, err)
	}
	src, _ := cat.Source(n)
	return &catalog.Plan{Source: src, Snap: snap}, nil
}

// ConsumerReads are the tables each consumer of p declares it reads, by consumer
// name: what its Postgres user may read.
func ConsumerReads(p *pipeline.Pipeline) (map[string][]engine.TableName, error) {
	out := map[string][]engine.TableName{}
	for _, c := range p.Consumers {
		for _, r := range c.Reads {
			n, err := parseTableName(r)
			if err != nil {
				return nil, fmt.Errorf("consumer %s: %w", c.Name, err)
			}
			out[c.Name] = append(out[c.Name], n)
		}
	}
	return out, nil
}
