package pgwire

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/lakectl/lakectl/catalog"
	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/pipeline"
)

// Tables registers the tables a query may read into its session.
type Tables interface {
	// Register registers into sess, which is not yet sealed, every table of reads
	// that exists: the tables uq names with at least the files uq can need, the
	// others without files (so the catalog views list them, with their columns).
	// Every table is pinned to one snapshot for the query. The server has checked
	// that uq names no table of the lake outside reads; a table of reads that
	// nothing has written yet is left out.
	Register(ctx context.Context, sess *engine.Session, uq *engine.UserSQL, reads []engine.TableName) error
}

// CatalogTables is Tables over the tables of a catalog. newCatalog is called once a
// query, so that each query reads the latest snapshots and holds them while it
// runs (a Catalog loads each snapshot once).
func CatalogTables(newCatalog func() *catalog.Catalog) Tables {
	return catalogTables(newCatalog)
}

type catalogTables func() *catalog.Catalog

func (f catalogTables) Register(ctx context.Context, sess *engine.Session, uq *engine.UserSQL, reads []engine.TableName) error {
	cat := f()
	for _, n := range reads {
		if _, ok := cat.Source(n); !ok {
			return fmt.Errorf("%s: not a table of the lake", n)
		}
		var plan *catalog.Plan
		var err error
		if slices.Contains(uq.Tables, n) {
			plan, err = cat.Plan(ctx, sess, uq, n)
		} else {
			plan, err = emptyPlan(ctx, cat, n)
		}
		if err != nil {
			return err
		}
		if plan == nil {
			continue // nothing has written it yet
		}
		if err := catalog.Register(ctx, sess, n, plan); err != nil {
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
