package gold

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/lakectl/lakectl/lake"
)

// Kinds of Reason.
const (
	ReasonGap     = "gap"     // the inputs have data for the day; Gold has never built it
	ReasonInput   = "input"   // an input commit after the version read touched a day the day reads
	ReasonPartial = "partial" // built before it was complete, and complete now
	ReasonModel   = "model"   // built by another text of the model
)

// Reason is why a day is stale.
type Reason struct {
	Kind  string `json:"kind"`
	Input string `json:"input,omitempty"` // the input's root, for gap and input
	// Read is the input version the day was built from; Versions the later commits
	// that touched it and Days the days of the window they touched.
	Read     int64   `json:"read_version,omitempty"`
	Versions []int64 `json:"versions,omitempty"`
	Days     []Day   `json:"days,omitempty"`
}

func (r Reason) String() string {
	switch r.Kind {
	case ReasonGap:
		return "gap: " + r.Input + " has data for the day, Gold has none"
	case ReasonPartial:
		return "built partially (--force), complete now"
	case ReasonModel:
		return "the model changed since the day was built"
	}
	var vs []string
	for _, v := range r.Versions {
		vs = append(vs, fmt.Sprintf("v%d", v))
	}
	var ds []string
	for _, d := range r.Days {
		ds = append(ds, d.String())
	}
	what := "partitions of " + strings.Join(ds, ", ")
	if len(ds) == 0 {
		what = "data without recording its partitions"
	}
	return fmt.Sprintf("%s %s (built from v%d) changed %s", r.Input, strings.Join(vs, ", "), r.Read, what)
}

// StaleDay is a day of a model to rebuild, with why.
type StaleDay struct {
	Day     Day      `json:"day"`
	Reasons []Reason `json:"reasons"`
	// Completeness of the day now: an incomplete day is listed but not rebuilt
	// without Force.
	Completeness Completeness `json:"completeness"`
}

// Stale lists the stale days of the model called name, oldest first, from what the
// commits of the model and of its inputs recorded (see the package doc): it reads
// the logs, never the data.
func (j *Job) Stale(ctx context.Context, name string) ([]StaleDay, error) {
	m := j.cfg.Models.Model(name)
	if m == nil {
		return nil, &UnknownModelError{Name: name, Known: j.modelNames()}
	}
	recs, err := readLineage(ctx, lake.NewTable(j.cfg.Store, m.Root()))
	if err != nil {
		return nil, err
	}
	reasons := map[Day][]Reason{}
	for _, n := range m.Inputs {
		in, err := j.inputOf(m, n)
		if err != nil {
			return nil, err
		}
		if in.snap, err = latestOrNil(ctx, in.table); err != nil {
			return nil, err
		}
		if in.snap == nil {
			continue
		}
		if in.dateCol != "" {
			for _, d := range dataDays(in.snap, in.dateCol) {
				if _, built := recs[d]; !built && !hasKind(reasons[d], ReasonGap) {
					reasons[d] = append(reasons[d], Reason{Kind: ReasonGap, Input: in.root})
				}
			}
		}
		// Only the commits after the oldest version a built day read can make one stale.
		from := in.snap.Version + 1
		for _, rec := range recs {
			v, ok := rec.Inputs[in.root]
			if !ok {
				v = -1
			}
			from = min(from, v+1)
		}
		chs, err := changes(ctx, in, from)
		if err != nil {
			return nil, err
		}
		for day, rec := range recs {
			if r, ok := inputReason(in, rec, window(day, in.window), chs); ok {
				reasons[day] = append(reasons[day], r)
			}
		}
	}
	for day, rec := range recs {
		if rec.Model != m.Hash() {
			reasons[day] = append(reasons[day], Reason{Kind: ReasonModel})
		}
		if !rec.Partial {
			continue
		}
		c, err := j.completeness(ctx, m, day)
		if err != nil {
			return nil, err
		}
		if c.Complete {
			reasons[day] = append(reasons[day], Reason{Kind: ReasonPartial})
		}
	}
	var out []StaleDay
	for _, day := range slices.SortedFunc(maps.Keys(reasons), func(a, b Day) int { return a.t.Compare(b.t) }) {
		c, err := j.completeness(ctx, m, day)
		if err != nil {
			return nil, err
		}
		out = append(out, StaleDay{Day: day, Reasons: reasons[day], Completeness: c})
	}
	return out, nil
}

// inputReason says whether commits of in after the version rec read touched one of
// days.
func inputReason(in *input, rec record, days []Day, chs []change) (Reason, bool) {
	read, ok := rec.Inputs[in.root]
	if !ok {
		read = -1 // the model did not read this input then: every commit is new to it
	}
	r := Reason{Kind: ReasonInput, Input: in.root, Read: read}
	touched := map[Day]bool{}
	for _, ch := range chs {
		if ch.version <= read {
			continue
		}
		hit := ch.all
		for _, d := range days {
			if ch.days[d] {
				hit, touched[d] = true, true
			}
		}
		if hit {
			r.Versions = append(r.Versions, ch.version)
		}
	}
	r.Days = slices.SortedFunc(maps.Keys(touched), func(a, b Day) int { return a.t.Compare(b.t) })
	return r, len(r.Versions) > 0
}

// dataDays are the days for which snap holds files.
func dataDays(snap *lake.Snapshot, col string) []Day {
	seen := map[Day]bool{}
	for _, a := range snap.Files() {
		if v := a.PartitionValues[col]; v != nil {
			if d, err := ParseDay(*v); err == nil {
				seen[d] = true
			}
		}
	}
	return slices.Collect(maps.Keys(seen))
}

func hasKind(rs []Reason, kind string) bool {
	return slices.ContainsFunc(rs, func(r Reason) bool { return r.Kind == kind })
}

// Selected returns the models called names (all when names is empty) in dependency
// order.
func (ms *Models) Selected(names []string) ([]*Model, error) {
	if len(names) == 0 {
		return ms.Order, nil
	}
	var known []string
	for _, m := range ms.Order {
		known = append(known, m.Name)
	}
	for _, n := range names {
		if ms.byName[n] == nil {
			return nil, &UnknownModelError{Name: n, Known: known}
		}
	}
	var out []*Model
	for _, m := range ms.Order {
		if slices.Contains(names, m.Name) {
			out = append(out, m)
		}
	}
	return out, nil
}

// RunStale rebuilds the stale days of the models called names (all when empty), in
// dependency order, so that a model sees the days its upstream models rebuilt. An
// incomplete stale day is left alone (each gets it with a nil summary) unless force.
// each is called once per stale day.
func (j *Job) RunStale(ctx context.Context, names []string, force bool, each func(model string, d StaleDay, sum *Summary)) error {
	models, err := j.cfg.Models.Selected(names)
	if err != nil {
		return err
	}
	for _, m := range models {
		days, err := j.Stale(ctx, m.Name)
		if err != nil {
			return err
		}
		for _, d := range days {
			if err := ctx.Err(); err != nil {
				return err
			}
			if !d.Completeness.Complete && !force {
				each(m.Name, d, nil)
				continue
			}
			sum, err := j.RunDay(ctx, m.Name, d.Day, RunOptions{Force: force, Why: d.Reasons})
			if err != nil {
				return err
			}
			each(m.Name, d, &sum)
		}
	}
	return nil
}
