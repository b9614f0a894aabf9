package gold

import (
	"context"
	"fmt"
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/pipeline/jobenv"
	"github.com/lakectl/lakectl/silver"
)

// Completeness says whether a day of a model can be built for good.
type Completeness struct {
	Complete bool `json:"complete"`
	// Needs is the ingest time through which every input must be sealed and
	// processed: the day's end plus the model's lateness.
	Needs time.Time `json:"needs_ingest_through"`
	// Why names what is missing when the day is not complete.
	Why string `json:"why,omitempty"`
}

// completeness applies the rule of the package doc to day of m: every Silver input
// sealed in Bronze through the day's end plus the lateness, and every sealed ingest
// hour of that span processed by Silver; every Gold input's days of the window built
// complete.
func (j *Job) completeness(ctx context.Context, m *Model, day Day) (Completeness, error) {
	c := Completeness{Complete: true, Needs: day.End().Add(m.Lateness)}
	incomplete := func(format string, args ...any) (Completeness, error) {
		c.Complete, c.Why = false, fmt.Sprintf(format, args...)
		return c, nil
	}
	for _, n := range m.Inputs {
		switch n.Schema {
		case "silver":
			t := j.cfg.Pipeline.Table(n.Name)
			if t == nil {
				return c, fmt.Errorf("input %s: not a Silver table of the pipeline", n)
			}
			bsnap, err := latestOrNil(ctx, lake.NewTable(j.cfg.Store, layout.TableRoot(t.Source)))
			if err != nil {
				return c, err
			}
			if bsnap == nil {
				return incomplete("nothing has been ingested into stream %s", t.Source)
			}
			through, ok := layout.SealedThrough(bsnap, j.cfg.Pipeline.Graces().Of(t.Source))
			if !ok || through.Before(c.Needs) {
				sealed := "nothing sealed yet"
				if ok {
					sealed = "sealed through " + through.UTC().Format(time.RFC3339)
				}
				return incomplete("bronze/%s is %s; day %s needs ingest hours through %s (day end + lateness %s)",
					t.Source, sealed, day, c.Needs.UTC().Format(time.RFC3339), m.Lateness)
			}
			sj := silver.NewJob(silver.Config{Env: jobenv.Env{Store: j.cfg.Store, Pipeline: j.cfg.Pipeline, Cache: j.cfg.Cache}})
			pending, err := sj.Pending(ctx, n.Name)
			if err != nil {
				return c, err
			}
			for _, h := range pending {
				if !h.Time().Before(day.Start()) && h.Time().Before(c.Needs) {
					return incomplete("silver.%s has not processed ingest hour %s yet (lakectl run silver --pending)", n.Name, h)
				}
			}
		case "gold":
			up := j.cfg.Models.Model(n.Name)
			recs, err := readLineage(ctx, lake.NewTable(j.cfg.Store, up.Root()))
			if err != nil {
				return c, err
			}
			for _, d := range window(day, m.Window(n)) {
				if rec, ok := recs[d]; ok && rec.Partial {
					return incomplete("gold.%s day %s was built before it was complete", n.Name, d)
				}
			}
		}
	}
	return c, nil
}

// Completeness reports whether day of the model called name is complete.
func (j *Job) Completeness(ctx context.Context, name string, day Day) (Completeness, error) {
	m := j.cfg.Models.Model(name)
	if m == nil {
		return Completeness{}, &UnknownModelError{Name: name, Known: j.modelNames()}
	}
	return j.completeness(ctx, m, day)
}

// IncompleteError is a day whose inputs may still change: refused without Force.
type IncompleteError struct {
	Model string
	Day   Day
	Why   string
}

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("day %s of model %s is not complete: %s", e.Day, e.Model, e.Why)
}

// Hint tells the user what to do.
func (e *IncompleteError) Hint() string {
	return "wait until it is (lakectl status shows what is missing), or --force builds it now as partial; it is rebuilt once complete"
}

// CompleteThrough returns the last complete day of the model called name, looking
// back from the day of now at most a week; ok is false when none of them is.
func (j *Job) CompleteThrough(ctx context.Context, name string, now time.Time) (d Day, ok bool, err error) {
	for d := DayOf(now); !d.Before(DayOf(now).Add(-7)); d = d.Add(-1) {
		c, err := j.Completeness(ctx, name, d)
		if err != nil {
			return Day{}, false, err
		}
		if c.Complete {
			return d, true, nil
		}
	}
	return Day{}, false, nil
}
