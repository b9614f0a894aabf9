package views

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/silver"
)

// tailStored is the schema under which a live-tail refresh registers Silver's stored
// rows; silver.<name> is then the view of those plus the tail.
const tailStored = "__silver_stored"

// tailRows is the schema under which a live-tail refresh holds the rows of each
// Silver table's tail.
const tailRows = "__silver_tail"

// tailInputs are what a live tail reads besides Silver: for each Silver input of v,
// the Bronze table behind it and the reference tables its contract joins. Their
// versions are inputs of the refresh like any other, so that a new Bronze commit or a
// new version of a reference is a change.
func (j *Job) tailInputs(ctx context.Context, v *View, read []*input) ([]*input, error) {
	var out []*input
	has := func(root string) bool {
		return slices.ContainsFunc(slices.Concat(read, out), func(in *input) bool { return in.root == root })
	}
	open := func(in *input) error {
		in.table = lake.NewTable(j.cfg.Store, in.root, lake.WithLogger(j.log))
		snap, err := latestOrNil(ctx, in.table)
		if err != nil {
			return err
		}
		if snap == nil {
			return &NoInputError{Input: in.name, View: v.Name}
		}
		in.snap = snap
		out = append(out, in)
		return nil
	}
	for _, n := range v.Inputs {
		if n.Schema != "silver" {
			continue
		}
		t := j.cfg.Pipeline.Table(n.Name)
		if t == nil {
			return nil, fmt.Errorf("input %s: no such Silver table", n)
		}
		if err := open(&input{name: engine.TableName{Schema: "bronze", Name: t.Source}, root: layout.TableRoot(t.Source), tailOf: n.Name}); err != nil {
			return nil, err
		}
		for _, e := range t.Enrich {
			if root := silver.RefRoot(e.Ref); !has(root) {
				if err := open(&input{name: engine.TableName{Schema: "ref", Name: e.Ref}, root: root, joinedByTail: true}); err != nil {
					return nil, err
				}
			}
		}
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
	refs, versions, err := c.RegisterRefs(ctx, r.sess, r.j.cfg.Store, r.j.cfg.Cache)
	if err != nil {
		return err
	}
	// RegisterRefs reads each reference's latest version, which may be newer than the
	// one the refresh decided on: the commit records the version read.
	for _, in := range r.inputs {
		if v, ok := versions[in.name.Name]; ok && in.joinedByTail {
			r.sum.Inputs[in.root] = v
		}
	}
	// The tail's rows are computed once, for the view and for the newest event time
	// among them, which the refresh's freshness counts (see reflects).
	rows := sqlfrag.Qualified(tailRows, stored.name.Name)
	for _, st := range []sqlfrag.SQL{
		sqlfrag.Fmt("CREATE SCHEMA IF NOT EXISTS %s", sqlfrag.Ident(tailRows)),
		sqlfrag.Fmt("CREATE TABLE %s AS %s", rows, c.Tail(sqlfrag.Qualified("bronze", t.Source), storedRel, refs)),
	} {
		if _, err := r.sess.ExecContext(ctx, st.String()); err != nil {
			return fmt.Errorf("live tail of %s: %w", stored.name, err)
		}
	}
	var newest sql.NullTime
	if err := r.sess.QueryRowContext(ctx, sqlfrag.Fmt("SELECT max(%s) FROM %s", sqlfrag.Ident(t.EventTime), rows).String()).Scan(&newest); err != nil {
		return fmt.Errorf("live tail of %s: newest event time: %w", stored.name, err)
	}
	if newest.Valid {
		r.tailNewest[t.Name] = newest.Time
	}
	return r.createView(ctx, stored.name, sqlfrag.Fmt("SELECT * FROM %s UNION ALL BY NAME SELECT * FROM %s", storedRel, rows))
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
