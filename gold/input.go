package gold

import (
	"context"
	"fmt"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/lake"
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

// inputOf describes input n of m, without reading it.
func (j *Job) inputOf(m *Model, n engine.TableName) (*input, error) {
	in := &input{name: n, window: m.Window(n)}
	switch n.Schema {
	case "silver":
		in.root, in.dateCol = silver.Root(n.Name), silver.ColEventDate
	case "ref":
		in.root = silver.RefRoot(n.Name)
	case "gold":
		up := j.cfg.Models.Model(n.Name)
		if up == nil {
			return nil, fmt.Errorf("input %s: no such model", n)
		}
		in.root, in.dateCol = up.Root(), up.Partition
	default:
		return nil, fmt.Errorf("input %s: not a table of the lake", n)
	}
	in.table = lake.NewTable(j.cfg.Store, in.root, lake.WithLogger(j.log))
	return in, nil
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
