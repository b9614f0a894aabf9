package serve

import (
	"context"
	"errors"
	"time"

	"github.com/lakectl/lakectl/gold"
	"github.com/lakectl/lakectl/silver"
	"github.com/lakectl/lakectl/views"
)

// Pipeline is the pipeline's jobs, which PipelineTasks schedules.
type Pipeline struct {
	Silver       *silver.Job
	SilverTables []string
	Gold         *gold.Job // nil without models
	Views        *views.Job
	Plan         *views.Plan // each view's derived cadence and path; nil without views
	// Poll is how often Silver looks for newly sealed hours and Gold for complete or
	// stale days. Default: 1m.
	Poll time.Duration
}

// DefaultPoll is Pipeline.Poll's default.
const DefaultPoll = time.Minute

// PipelineTasks are the tasks that run p: one per Silver table (every sealed hour not
// processed yet, oldest first), one for Gold (every stale day: late data, gaps, days
// built partially and complete now), one per view at the cadence its plan derives (a
// view that nothing asks for is not scheduled).
func PipelineTasks(p Pipeline) []Task {
	poll := p.Poll
	if poll <= 0 {
		poll = DefaultPoll
	}
	var tasks []Task
	for _, table := range p.SilverTables {
		tasks = append(tasks, Task{Name: "silver/" + table, Spec: Every(poll), Run: func(ctx context.Context) (int64, error) {
			return runSilver(ctx, p.Silver, table)
		}})
	}
	if p.Gold != nil {
		tasks = append(tasks, Task{Name: "gold", Spec: Every(poll), Run: func(ctx context.Context) (int64, error) {
			var rows int64
			err := p.Gold.RunStale(ctx, nil, false, func(_ string, _ gold.StaleDay, sum *gold.Summary) {
				if sum != nil {
					rows += sum.Rows
				}
			})
			return rows, err
		}})
	}
	if p.Plan != nil {
		for _, v := range p.Plan.Views {
			if v.Cadence <= 0 {
				continue // unused: neither a consumer nor a fixed refresh asks for it
			}
			opts := views.Options{LiveTail: v.Path == views.PathLiveTail}
			tasks = append(tasks, Task{Name: "views/" + v.Name, Spec: Every(max(v.Cadence, time.Second)), Run: func(ctx context.Context) (int64, error) {
				sum, err := p.Views.Refresh(ctx, v.Name, opts)
				var none *views.NoInputError
				if errors.As(err, &none) && none.Input.Schema != "ref" {
					// Silver or Gold has not written the input yet: a later tick will
					// find it. A reference table, though, waits for someone to load it.
					return 0, nil
				}
				return sum.Rows, err
			}})
		}
	}
	return tasks
}

// runSilver processes table's sealed hours that Silver has not processed yet.
func runSilver(ctx context.Context, job *silver.Job, table string) (int64, error) {
	hours, err := job.Pending(ctx, table)
	if err != nil {
		return 0, err
	}
	var rows int64
	err = job.RunHours(ctx, table, hours, silver.RunOptions{}, func(sum silver.Summary) { rows += sum.Written })
	var unsealed *silver.UnsealedError
	if errors.As(err, &unsealed) {
		return rows, nil // the hours after it are for a later tick
	}
	return rows, err
}
