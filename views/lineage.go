package views

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lakectl/lakectl/lake"
)

// lastRefresh is what the latest refresh commit of a view recorded.
type lastRefresh struct {
	Version int64
	Hash    string           // the view's Hash then
	Inputs  map[string]int64 // input root -> version read
}

// readLast returns the record of the latest refresh commit of t; nil when there is
// none.
func readLast(ctx context.Context, t *lake.Table) (*lastRefresh, error) {
	hist, err := t.History(ctx)
	if errors.Is(err, lake.ErrNoTable) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	for i := len(hist) - 1; i >= 0; i-- {
		c := hist[i]
		if job, _ := c.Info["job"].(string); job != jobName {
			continue
		}
		rec := &lastRefresh{Version: c.Version}
		rec.Hash, _ = c.Info["viewHash"].(string)
		if rec.Inputs, err = recordedInputs(c.Info); err != nil {
			return nil, fmt.Errorf("%s v%d: %w", t, c.Version, err)
		}
		return rec, nil
	}
	return nil, nil
}

// recordedInputs are the versions that a refresh commit recorded reading, by input
// root.
func recordedInputs(info map[string]any) (map[string]int64, error) {
	out := map[string]int64{}
	ins, _ := info["inputs"].(map[string]any)
	for root, v := range ins {
		f, ok := v.(float64)
		if !ok {
			return nil, fmt.Errorf("commitInfo.inputs.%s is not a version", root)
		}
		out[root] = int64(f)
	}
	return out, nil
}

// touched is what the commits of one input since the last refresh changed.
type touched struct {
	versions []int64         // the commits that changed data
	days     map[string]bool // the days (2006-01-02) they wrote or rewrote
	// whole names the first commit that changed data without saying which days (or
	// of an input read whole): every bucket is touched. "" otherwise.
	whole string
}

// changesSince reads the commits of in after version from and the days they touched,
// from their commitInfo.partitions and rewrittenPartitions (by in's date column).
// Commits that changed no data are left out.
func changesSince(ctx context.Context, in *input, from int64) (touched, error) {
	out := touched{days: map[string]bool{}}
	hist, err := in.table.HistoryFrom(ctx, from+1)
	if err != nil {
		return out, err
	}
	for _, c := range hist {
		if c.FilesAdded+c.FilesRemoved == 0 {
			continue
		}
		out.versions = append(out.versions, c.Version)
		parts, ok := c.Info["partitions"].([]any)
		if in.dateCol == "" {
			out.wholeOnce(fmt.Sprintf("%s v%d (read whole)", in.root, c.Version))
			continue
		}
		if !ok {
			out.wholeOnce(fmt.Sprintf("%s v%d changed data without saying which days", in.root, c.Version))
			continue
		}
		rewritten, _ := c.Info["rewrittenPartitions"].([]any)
		for _, p := range append(parts, rewritten...) {
			pm, _ := p.(map[string]any)
			s, _ := pm[in.dateCol].(string)
			if len(s) != len("2006-01-02") {
				out.wholeOnce(fmt.Sprintf("%s v%d recorded a partition without its %s", in.root, c.Version, in.dateCol))
				continue
			}
			out.days[s] = true
		}
	}
	return out, nil
}

func (t *touched) wholeOnce(why string) {
	if t.whole == "" {
		t.whole = why
	}
}

// versionList writes versions as "v3, v4".
func versionList(vs []int64) string {
	var s []string
	for _, v := range vs {
		s = append(s, fmt.Sprintf("v%d", v))
	}
	return strings.Join(s, ", ")
}

func sortedDays(days map[string]bool) []string {
	var out []string
	for d := range days {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}
