package views

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/gold"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/pipeline/jobenv"
	"github.com/lakectl/lakectl/silver"
)

// jobName is commitInfo.job of a refresh commit.
const jobName = "views"

// Modes of a refresh.
const (
	ModeFull        = "full"
	ModeIncremental = "incremental"
)

// Points of a refresh where Config.Hook is called.
const (
	HookBuilt        = "view-built"         // the result is computed; nothing written
	HookFilesWritten = "view-files-written" // data files uploaded, not committed
	HookCommitted    = "view-committed"     // the refresh's commit landed
)

// Config sets up a Job.
type Config struct {
	// Env: the lake, the pipeline, the DuckDB settings and the rest every job runs
	// with; the logger gets one line per refresh, and Hook is called at the Hook*
	// points.
	jobenv.Env
	Views *Views
}

// Job refreshes views. It is safe for concurrent use: each refresh has its own
// DuckDB session.
type Job struct {
	cfg Config
	log *slog.Logger
}

// NewJob returns a job with cfg's settings.
func NewJob(cfg Config) *Job {
	cfg.Env = cfg.Env.WithDefaults()
	return &Job{cfg: cfg, log: cfg.Logger.With("component", "views")}
}

// Options modify one refresh.
type Options struct {
	// Full recomputes the whole view even when only some buckets, or none, changed.
	Full bool
	// LiveTail reads each Silver input together with its live tail: the Bronze files
	// of the hours Silver has not processed, through the same compiled contract. The
	// refresh is then full, and Bronze commits and new versions of the reference
	// tables the contract joins count as input changes. lakectl plan says which views
	// need it (PathLiveTail).
	LiveTail bool
}

// Summary says what one refresh did.
type Summary struct {
	View string `json:"view"`
	// Skipped is set when no input changed data since the last refresh: no version
	// was written.
	Skipped bool   `json:"skipped"`
	Mode    string `json:"mode,omitempty"` // full or incremental; "" when skipped
	Reason  string `json:"reason"`         // why this mode (or why nothing was done)
	// Inputs are the versions read, by table root.
	Inputs map[string]int64 `json:"inputs"`
	// TailFiles is the number of Bronze files a live-tail refresh read.
	TailFiles int `json:"tail_files,omitempty"`
	// Days are the days whose buckets an incremental refresh recomputed.
	Days         []string       `json:"days,omitempty"`
	Rows         int64          `json:"rows"`
	FilesAdded   int            `json:"files_added"`
	FilesRemoved int            `json:"files_removed"`
	Version      int64          `json:"version"` // the view's version now; -1 when it has none
	Duration     silver.Seconds `json:"duration_seconds"`
}

// NoInputError is an input table that nothing has written yet.
type NoInputError struct {
	Input engine.TableName
	View  string
}

func (e *NoInputError) Error() string {
	return fmt.Sprintf("input %s of view %s has no data yet", e.Input, e.View)
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

// UnknownViewError is a view name that the pipeline has no file for.
type UnknownViewError struct{ Name string }

func (e *UnknownViewError) Error() string { return fmt.Sprintf("no view %q", e.Name) }

// Refresh brings the view called name up to date with its inputs, in one commit of
// views/<name>: readers see the previous version until it lands.
func (j *Job) Refresh(ctx context.Context, name string, opts Options) (Summary, error) {
	start := j.cfg.Now()
	v := j.cfg.Views.View(name)
	if v == nil {
		return Summary{}, &UnknownViewError{Name: name}
	}
	var sum Summary
	var err error
	for attempt := 1; ; attempt++ {
		sum, err = j.refreshOnce(ctx, v, opts, start)
		var conflict *lake.ConflictError
		if err == nil || !errors.As(err, &conflict) || attempt >= j.cfg.MaxAttempts {
			break
		}
		j.log.Info("lost a commit race; re-reading", "view", name, "attempt", attempt, "reason", conflict.Reason)
	}
	sum.Duration = silver.Seconds(j.cfg.Now().Sub(start))
	if err != nil {
		return sum, fmt.Errorf("refresh view %s: %w", name, err)
	}
	j.log.Info("view refreshed", "view", name, "skipped", sum.Skipped, "mode", sum.Mode, "reason", sum.Reason,
		"rows", sum.Rows, "version", sum.Version, "duration", time.Duration(sum.Duration))
	return sum, nil
}

// refresh is one attempt at a refresh.
type refresh struct {
	j      *Job
	v      *View
	start  time.Time
	table  *lake.Table
	snap   *lake.Snapshot // the view's, nil before its first refresh
	inputs []*input
	days   []string // the days an incremental refresh recomputes
	// liveTail: Silver inputs are read with their live tail (Options.LiveTail).
	liveTail bool
	// tailNewest is, by Silver table, the newest event time among its live tail's
	// rows; none for a tail without rows.
	tailNewest map[string]time.Time
	sess       *engine.Session
	sum        Summary
}

func (j *Job) refreshOnce(ctx context.Context, v *View, opts Options, start time.Time) (Summary, error) {
	r := &refresh{j: j, v: v, start: start, table: lake.NewTable(j.cfg.Store, v.Root(), lake.WithLogger(j.log)), tailNewest: map[string]time.Time{}}
	r.sum = Summary{View: v.Name, Inputs: map[string]int64{}, Version: -1}
	var err error
	if r.snap, err = latestOrNil(ctx, r.table); err != nil {
		return r.sum, err
	}
	if r.snap != nil {
		r.sum.Version = r.snap.Version
	}
	if r.inputs, err = j.openInputs(ctx, v); err != nil {
		return r.sum, err
	}
	if opts.LiveTail {
		tails, err := j.tailInputs(ctx, v, r.inputs)
		if err != nil {
			return r.sum, err
		}
		r.inputs = append(r.inputs, tails...)
		r.liveTail = true
	}
	for _, in := range r.inputs {
		r.sum.Inputs[in.root] = in.snap.Version
	}
	if err := r.decide(ctx, opts); err != nil || r.sum.Skipped {
		return r.sum, err
	}
	if r.sess, err = engine.Open(ctx, j.cfg.Engine); err != nil {
		return r.sum, err
	}
	defer r.sess.Close()
	if err := r.build(ctx); err != nil {
		return r.sum, err
	}
	j.cfg.Hook(HookBuilt)
	refl, hasRefl, err := r.reflects(ctx)
	if err != nil {
		return r.sum, err
	}
	if err := r.commit(ctx, refl, hasRefl); err != nil {
		return r.sum, err
	}
	j.cfg.Hook(HookCommitted)
	return r.sum, nil
}

// decide picks the mode, and says why, from the last refresh's record and the input
// commits since; it sets Skipped when there is nothing to do.
func (r *refresh) decide(ctx context.Context, opts Options) error {
	last, err := readLast(ctx, r.table)
	if err != nil {
		return err
	}
	full := func(why string) error {
		r.sum.Mode, r.sum.Reason = ModeFull, why
		return nil
	}
	switch {
	case last == nil:
		return full("first refresh")
	case last.Hash != r.v.Hash():
		return full("the view's file changed since v" + fmt.Sprint(last.Version))
	}
	days := map[string]bool{}
	var changed []string
	whole := ""
	for _, in := range r.inputs {
		from, ok := last.Inputs[in.root]
		if !ok {
			return full("new input " + in.root)
		}
		if in.snap.Version < from {
			return full(fmt.Sprintf("%s is at v%d, before v%d that the last refresh read (restored?)", in.root, in.snap.Version, from))
		}
		t, err := changesSince(ctx, in, from)
		if err != nil {
			return err
		}
		if len(t.versions) == 0 {
			continue
		}
		changed = append(changed, in.root+" "+versionList(t.versions))
		for d := range t.days {
			days[d] = true
		}
		if whole == "" {
			whole = t.whole
		}
	}
	if len(changed) == 0 && opts.Full {
		return full("full asked for; no input changed data since v" + fmt.Sprint(last.Version))
	}
	if len(changed) == 0 {
		r.sum.Skipped = true
		r.sum.Reason = fmt.Sprintf("no input changed data since the refresh of v%d", last.Version)
		return nil
	}
	because := "input commits " + strings.Join(changed, "; ")
	switch {
	case opts.Full:
		return full(because + "; full asked for")
	case r.liveTail:
		return full(because + "; the live tail is read whole")
	case r.v.Time == "":
		return full(because + "; the view has no time column")
	case whole != "":
		return full(because + "; " + whole)
	case len(days) == 0:
		return full(because + "; they recorded no days")
	}
	r.sum.Mode = ModeIncremental
	r.days = sortedDays(days)
	r.sum.Days = r.days
	r.sum.Reason = because + " touched " + strings.Join(r.days, ", ")
	return nil
}

func latestOrNil(ctx context.Context, t *lake.Table) (*lake.Snapshot, error) {
	snap, err := t.Latest(ctx)
	if errors.Is(err, lake.ErrNoTable) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t, err)
	}
	return snap, nil
}

// input is one table a view reads, at the version a refresh reads.
type input struct {
	name  engine.TableName
	root  string
	table *lake.Table
	snap  *lake.Snapshot
	// dateCol is the DATE partition column that days select files by; "" for a
	// table read whole (reference tables, Bronze).
	dateCol string
	// tailOf is, for a Bronze table read for a live tail, the Silver table it feeds.
	tailOf string
	// joinedByTail is set for a reference table that only a live tail's contract
	// joins: the contract registers it (silver.Contract.RegisterRefs), history and all.
	joinedByTail bool
}

// openInputs loads the latest snapshot of every input of v.
func (j *Job) openInputs(ctx context.Context, v *View) ([]*input, error) {
	var out []*input
	for _, n := range v.Inputs {
		in := &input{name: n}
		switch n.Schema {
		case "silver":
			in.root, in.dateCol = silver.Root(n.Name), silver.ColEventDate
		case "ref":
			in.root = silver.RefRoot(n.Name)
		case "gold":
			in.root = gold.Root(n.Name)
		default:
			return nil, fmt.Errorf("input %s: not a table of the lake", n)
		}
		in.table = lake.NewTable(j.cfg.Store, in.root, lake.WithLogger(j.log))
		snap, err := latestOrNil(ctx, in.table)
		if err != nil {
			return nil, err
		}
		if snap == nil {
			return nil, &NoInputError{Input: n, View: v.Name}
		}
		in.snap = snap
		if n.Schema == "gold" {
			// A Gold table is partitioned by its model's one DATE column.
			if pc := snap.Metadata.PartitionColumns; len(pc) == 1 {
				in.dateCol = pc[0]
			}
		}
		out = append(out, in)
	}
	return out, nil
}

// files are the data files of in that the refresh reads: those of the days an
// incremental refresh recomputes, else all.
func (in *input) files(days []string) []lake.Add {
	if days == nil || in.dateCol == "" {
		return in.snap.Files()
	}
	var out []lake.Add
	for _, a := range in.snap.Files() {
		if v := a.PartitionValues[in.dateCol]; v != nil && slices.Contains(days, *v) {
			out = append(out, a)
		}
	}
	return out
}
