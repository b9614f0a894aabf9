package gold

import (
	"context"
	"fmt"

	"github.com/lakectl/lakectl/catalog"
	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
	"github.com/lakectl/lakectl/silver"
)

// input is one table a model reads, at the version a run reads.
type input struct {
	name  engine.TableName
	root  string // its lake root, the key lineage records it by
	table *lake.Table
	snap  *lake.Snapshot
	// dateCol is the DATE partition column the window selects by; "" for a reference
	// table, which is read whole.
	dateCol string
	window  int
}

// inputOf describes input n of m, without reading it. The table is the one
// lakectl query names n too (package catalog).
func (j *Job) inputOf(m *Model, n engine.TableName) (*input, error) {
	in := &input{name: n, window: m.Window(n)}
	switch n.Schema {
	case "silver":
		in.dateCol = silver.ColEventDate
	case "ref":
	case "gold":
		up := j.cfg.Models.Model(n.Name)
		if up == nil {
			return nil, fmt.Errorf("input %s: no such model", n)
		}
		in.dateCol = up.Partition
	default:
		return nil, fmt.Errorf("input %s: not a table of the lake", n)
	}
	src, ok := j.tables.Source(n)
	if !ok {
		return nil, fmt.Errorf("input %s: not a table of the pipeline", n)
	}
	in.root, in.table = src.Root, src.Table
	return in, nil
}

// register registers the files of in that day reads as its table in sess.
func (in *input) register(ctx context.Context, sess *engine.Session, files []lake.Add, c *cache.Cache) error {
	src := catalog.Source{Root: in.root, Table: in.table, Cache: c}
	return catalog.Register(ctx, sess, in.name, &catalog.Plan{Source: src, Snap: in.snap, Adds: files})
}

// openInputs loads the latest snapshot of every input of m.
func (j *Job) openInputs(ctx context.Context, m *Model) ([]*input, error) {
	var out []*input
	for _, n := range m.Inputs {
		in, err := j.inputOf(m, n)
		if err != nil {
			return nil, err
		}
		if in.snap, err = latestOrNil(ctx, in.table); err != nil {
			return nil, err
		}
		if in.snap == nil {
			return nil, &NoInputError{Input: n, Model: m.Name}
		}
		out = append(out, in)
	}
	return out, nil
}

// files are the data files of in that day reads: the days of its window, or all of a
// reference table.
func (in *input) files(day Day) []lake.Add {
	if in.dateCol == "" {
		return in.snap.Files()
	}
	return dayFiles(in.snap, in.dateCol, window(day, in.window))
}

// NoInputError is an input table that nothing has written yet.
type NoInputError struct {
	Input engine.TableName
	Model string
}

func (e *NoInputError) Error() string {
	return fmt.Sprintf("input %s of model %s has no data yet", e.Input, e.Model)
}

// Hint tells the user what to do.
func (e *NoInputError) Hint() string {
	switch e.Input.Schema {
	case "silver":
		return "run lakectl run silver first"
	case "ref":
		return "load it with lakectl ref load " + e.Input.Name
	}
	return "build gold." + e.Input.Name + " first: lakectl run gold " + e.Input.Name
}
