package gold

import (
	"context"
	"errors"
	"fmt"

	"github.com/lakectl/lakectl/lake"
)

// record is what the last commit of a day of a model recorded.
type record struct {
	Version int64            // the Gold commit
	Partial bool             // built before the day was complete
	Model   string           // the model's Hash then
	Inputs  map[string]int64 // input root -> version read
}

// readLineage returns, per day, the record of the latest Gold commit that built it.
// An unwritten table has none.
func readLineage(ctx context.Context, t *lake.Table) (map[Day]record, error) {
	hist, err := t.History(ctx)
	if errors.Is(err, lake.ErrNoTable) {
		return map[Day]record{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[Day]record{}
	for _, c := range hist {
		if job, _ := c.Info["job"].(string); job != "gold" {
			continue
		}
		ds, _ := c.Info["day"].(string)
		day, err := ParseDay(ds)
		if err != nil {
			return nil, fmt.Errorf("%s v%d: commitInfo.day: %w", t, c.Version, err)
		}
		rec := record{Version: c.Version, Inputs: map[string]int64{}}
		rec.Partial, _ = c.Info["partial"].(bool)
		rec.Model, _ = c.Info["modelHash"].(string)
		ins, _ := c.Info["inputs"].(map[string]any)
		for root, v := range ins {
			f, ok := v.(float64)
			if !ok {
				return nil, fmt.Errorf("%s v%d: commitInfo.inputs.%s is not a version", t, c.Version, root)
			}
			rec.Inputs[root] = int64(f)
		}
		out[day] = rec // History is oldest first: the last one wins
	}
	return out, nil
}

// change is one commit of an input: the days it touched.
type change struct {
	version int64
	days    map[Day]bool
	// all is set for a commit that changed data without saying where: it touches
	// every day.
	all bool
}

// changes reads the commits of an input from version from on and the days each
// touched, from their commitInfo.partitions (and rewrittenPartitions), by the input's
// date column. Commits that changed no data are left out.
func changes(ctx context.Context, in *input, from int64) ([]change, error) {
	hist, err := in.table.HistoryFrom(ctx, from)
	if err != nil {
		return nil, err
	}
	var out []change
	for _, c := range hist {
		if c.FilesAdded+c.FilesRemoved == 0 {
			continue
		}
		ch := change{version: c.Version, days: map[Day]bool{}}
		parts, ok := c.Info["partitions"].([]any)
		if !ok || in.dateCol == "" {
			ch.all = true
		}
		rewritten, _ := c.Info["rewrittenPartitions"].([]any)
		for _, p := range append(parts, rewritten...) {
			pm, _ := p.(map[string]any)
			s, _ := pm[in.dateCol].(string)
			if d, err := ParseDay(s); err == nil {
				ch.days[d] = true
			} else {
				ch.all = true
			}
		}
		out = append(out, ch)
	}
	return out, nil
}
