package views

import (
	"context"
	"fmt"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/silver"
)

// tailStored is the schema under which a live-tail refresh registers Silver's stored
// rows; silver.<name> is then the view of those plus the tail.
const tailStored = "__silver_stored"

// tailInputs are the Bronze tables behind v's Silver inputs, read for the live tail:
// their versions are inputs of the refresh like any other.
func (j *Job) tailInputs(ctx context.Context, v *View) ([]*input, error) {
	var out []*input
	for _, n := range v.Inputs {
		if n.Schema != "silver" {
			continue
		}
		t := j.cfg.Pipeline.Table(n.Name)
		if t == nil {
			return nil, fmt.Errorf("input %s: no such Silver table", n)
		}
		in := &input{name: engine.TableName{Schema: "bronze", Name: t.Source}, root: layout.TableRoot(t.Source), tailOf: n.Name}
		in.table = lake.NewTable(j.cfg.Store, in.root, lake.WithLogger(j.log))
		snap, err := latestOrNil(ctx, in.table)
		if err != nil {
			return nil, err
		}
		if snap == nil {
			return nil, &NoInputError{Input: in.name, View: v.Name}
		}
		in.snap = snap
		out = append(out, in)
	}
	return out, nil
}

// registerTail makes silver.<name> the Silver table plus its live tail: the Bronze
// files of the hours Silver has not processed, through the table's compiled contract
// (parsed, checked, rejected rows left out, deduplicated, and deduplicated against
// Silver).
func (r *refresh) registerTail(ctx context.Context, stored, bronze *input) error {
	t := r.j.cfg.Pipeline.Table(stored.name.Name)
	c, err := silver.Compile(*t)
	if err != nil {
		return err
	}
	if err := r.sess.RegisterFiles(ctx, tailStored, stored.name.Name, stored.snap, stored.snap.Files(), engine.TableFiles(stored.table, r.j.cfg.Cache)); err != nil {
		return err
	}
	files := silver.Unprocessed(bronze.snap, stored.snap, t.Name)
	r.sum.TailFiles += len(files)
	storedRel := sqlfrag.Qualified(tailStored, stored.name.Name)
	if len(files) == 0 {
		return r.createView(ctx, stored.name, sqlfrag.Fmt("SELECT * FROM %s", storedRel))
	}
	if err := r.sess.RegisterFiles(ctx, "bronze", t.Source, bronze.snap, files, engine.TableFiles(bronze.table, r.j.cfg.Cache)); err != nil {
		return err
	}
	// The references as the hourly job registers them, history and all, so that a
	// point-in-time join gives the tail the rows Silver will hold.
	refs, _, err := c.RegisterRefs(ctx, r.sess, r.j.cfg.Store, r.j.cfg.Cache)
	if err != nil {
		return err
	}
	tail := c.Tail(sqlfrag.Qualified("bronze", t.Source), storedRel, refs)
	return r.createView(ctx, stored.name, sqlfrag.Fmt("SELECT * FROM %s UNION ALL BY NAME %s", storedRel, tail))
}

func (r *refresh) createView(ctx context.Context, n engine.TableName, query sqlfrag.SQL) error {
	for _, st := range []sqlfrag.SQL{
		sqlfrag.Fmt("CREATE SCHEMA IF NOT EXISTS %s", sqlfrag.Ident(n.Schema)),
		sqlfrag.Fmt("CREATE OR REPLACE VIEW %s AS %s", sqlfrag.Qualified(n.Schema, n.Name), query),
	} {
		if _, err := r.sess.ExecContext(ctx, st.String()); err != nil {
			return fmt.Errorf("live tail of %s: %w", n, err)
		}
	}
	return nil
}
