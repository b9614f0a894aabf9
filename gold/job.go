package gold

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/lakectl/lakectl/catalog"
	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/pipeline/jobenv"
	"github.com/lakectl/lakectl/silver"
)

// Config sets up a Job.
type Config struct {
	// Env: the lake, the pipeline, the DuckDB settings and the rest every job runs
	// with; the logger gets one line per day built, and Hook is called at the Hook*
	// points below.
	jobenv.Env
	Models *Models
}

// Points of a run where Config.Hook is called.
const (
	HookAudited      = "audited"       // model and audits ran; nothing written
	HookFilesWritten = "files-written" // Gold data files uploaded, not committed
	HookCommitted    = "committed"     // the day's commit landed
)

// Job builds the days of Gold models. It is safe for concurrent use: each run has
// its own DuckDB session.
type Job struct {
	cfg Config
	log *slog.Logger
	// tables finds the inputs by name; only its Source is used, which is safe for
	// concurrent use, and each run loads its own snapshots.
	tables *catalog.Catalog
}

// NewJob returns a job with cfg's settings.
func NewJob(cfg Config) *Job {
	cfg.Env = cfg.Env.WithDefaults()
	log := cfg.Logger.With("component", "gold")
	tables := catalog.ForPipeline(cfg.Pipeline, catalog.Config{Store: cfg.Store, Cache: cfg.Cache, Logger: log})
	return &Job{cfg: cfg, log: log, tables: tables}
}

// RunOptions modify one run.
type RunOptions struct {
	// Force builds a day that is not complete yet (see the package doc). The commit
	// records it as partial, and the day is stale until it is built complete.
	Force bool
	// Why is what made the caller run the day (the staleness reasons), for the
	// summary.
	Why []Reason
}

// Summary says what a run of one day of one model did.
type Summary struct {
	Model string `json:"model"`
	Day   Day    `json:"day"`
	// Skipped is set when the day was already built from the input versions there
	// are now: the result would be the same.
	Skipped bool `json:"skipped"`
	Partial bool `json:"partial"` // built before the day was complete (--force)
	// Inputs are the versions read, by table root; Read the days read of each.
	Inputs       map[string]int64 `json:"inputs"`
	Read         map[string][]Day `json:"read"`
	FilesRead    int              `json:"files_read"`
	Rows         int64            `json:"rows"`
	FilesAdded   int              `json:"files_added"`
	FilesRemoved int              `json:"files_removed"`
	Why          []Reason         `json:"why,omitempty"`
	Version      int64            `json:"version"` // Gold version committed; -1 when none
	Duration     silver.Seconds   `json:"duration_seconds"`
}

// AppID is the txn appId of the builds of one day by one text of a model (its
// Hash): a build by an edited model is not done by the txn of the old text.
func AppID(m *Model, day Day) string { return "gold/" + m.Name + "/" + day.String() + "/" + m.Hash() }

// RunDay builds day of the model called name: it replaces the day's partition in one
// commit, after the model's audits passed.
func (j *Job) RunDay(ctx context.Context, name string, day Day, opts RunOptions) (Summary, error) {
	start := j.cfg.Now()
	m := j.cfg.Models.Model(name)
	if m == nil {
		return Summary{}, &UnknownModelError{Name: name, Known: j.modelNames()}
	}
	var sum Summary
	var err error
	for attempt := 1; ; attempt++ {
		sum, err = j.runOnce(ctx, m, day, opts)
		var conflict *lake.ConflictError
		if err == nil || !errors.As(err, &conflict) || attempt >= j.cfg.MaxAttempts {
			break
		}
		j.log.Info("lost a commit race; re-reading", "model", name, "day", day.String(), "attempt", attempt, "reason", conflict.Reason)
	}
	sum.Duration = silver.Seconds(j.cfg.Now().Sub(start))
	if err != nil {
		return sum, fmt.Errorf("gold %s day %s: %w", name, day, err)
	}
	j.log.Info("gold day done", "model", name, "day", day.String(), "skipped", sum.Skipped, "partial", sum.Partial,
		"rows", sum.Rows, "files_read", sum.FilesRead, "version", sum.Version, "duration", time.Duration(sum.Duration))
	return sum, nil
}

func (j *Job) modelNames() []string {
	var out []string
	for _, m := range j.cfg.Models.Order {
		out = append(out, m.Name)
	}
	return out
}

// UnknownModelError names a model that models/ does not hold.
type UnknownModelError struct {
	Name  string
	Known []string
}

func (e *UnknownModelError) Error() string {
	return fmt.Sprintf("no model %s in models/ (the models are %v)", e.Name, e.Known)
}

// run is the state of one attempt.
type run struct {
	j      *Job
	m      *Model
	day    Day
	opts   RunOptions
	sess   *engine.Session
	gold   *lake.Table
	gsnap  *lake.Snapshot // nil before the first commit
	inputs []*input
	sum    Summary
}

func (j *Job) runOnce(ctx context.Context, m *Model, day Day, opts RunOptions) (Summary, error) {
	r := &run{j: j, m: m, day: day, opts: opts}
	r.sum = Summary{Model: m.Name, Day: day, Version: -1, Inputs: map[string]int64{}, Read: map[string][]Day{}, Why: opts.Why}
	r.gold = lake.NewTable(j.cfg.Store, m.Root(), lake.WithLogger(j.log))
	var err error
	if r.gsnap, err = latestOrNil(ctx, r.gold); err != nil {
		return r.sum, err
	}
	if r.inputs, err = j.openInputs(ctx, m); err != nil {
		return r.sum, err
	}
	var txnVersion int64
	for _, in := range r.inputs {
		r.sum.Inputs[in.root] = in.snap.Version
		txnVersion += in.snap.Version
		if in.dateCol != "" {
			r.sum.Read[in.root] = window(day, in.window)
		}
	}
	c, err := j.completeness(ctx, m, day)
	if err != nil {
		return r.sum, err
	}
	if !c.Complete && !opts.Force {
		return r.sum, &IncompleteError{Model: m.Name, Day: day, Why: c.Why}
	}
	r.sum.Partial = !c.Complete
	if r.done(txnVersion) {
		r.sum.Skipped = true
		return r.sum, nil
	}
	if r.sess, err = engine.Open(ctx, j.cfg.Engine); err != nil {
		return r.sum, err
	}
	defer r.sess.Close()
	if err := r.build(ctx); err != nil {
		return r.sum, err
	}
	j.cfg.Hook(HookAudited)
	if err := r.commit(ctx, txnVersion); err != nil {
		return r.sum, err
	}
	j.cfg.Hook(HookCommitted)
	return r.sum, nil
}

// done reports whether the day was built from these input versions by this text of
// the model: the sum of the versions read grows with every input commit, so an equal
// txn version means the same inputs, and the same result. A complete build is not
// done by a partial one.
func (r *run) done(txnVersion int64) bool {
	if r.gsnap == nil {
		return false
	}
	if v, ok := r.gsnap.TxnVersion(AppID(r.m, r.day)); ok && v >= txnVersion {
		return true
	}
	v, ok := r.gsnap.TxnVersion(partialAppID(r.m, r.day))
	return ok && r.sum.Partial && v >= txnVersion
}

// partialAppID is the txn of a build of an incomplete day.
func partialAppID(m *Model, day Day) string { return AppID(m, day) + "/partial" }

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

// dayFiles are the files of snap whose partition column col holds one of days.
func dayFiles(snap *lake.Snapshot, col string, days []Day) []lake.Add {
	want := map[string]bool{}
	for _, d := range days {
		want[d.String()] = true
	}
	var out []lake.Add
	for _, a := range snap.Files() {
		if v := a.PartitionValues[col]; v != nil && want[*v] {
			out = append(out, a)
		}
	}
	return out
}

// partitionOf is the day partition of a Gold file.
func isDay(pv map[string]*string, col string, day Day) bool {
	v := pv[col]
	return v != nil && *v == day.String()
}

// sortedRoots lists the inputs' roots in order.
func sortedRoots(m map[string]int64) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
