package silver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/pipeline"
	"github.com/lakectl/lakectl/pipeline/jobenv"
)

// Config sets up a Job.
type Config struct {
	// Env: the lake, the pipeline, the DuckDB settings and the rest every job runs
	// with; Hook is called at the Hook* points below.
	jobenv.Env
	// Registerer gets the job's metrics (see Metrics). Default: none.
	Registerer prometheus.Registerer
}

// Points of a run where Config.Hook is called: between them a crash leaves different
// states behind, which a re-run must all finish the same way.
const (
	HookParsed              = "parsed"               // batch parsed; nothing written yet
	HookQuarantineCommitted = "quarantine-committed" // quarantine committed; Silver not yet
	HookFilesWritten        = "files-written"        // Silver data files uploaded, not committed
	HookCommitted           = "committed"            // Silver committed
)

// Job runs Silver contracts. It is safe for concurrent use: each run has its own
// DuckDB session.
type Job struct {
	cfg     Config
	log     *slog.Logger
	metrics *Metrics
}

// NewJob returns a job with cfg's settings.
func NewJob(cfg Config) *Job {
	cfg.Env = cfg.Env.WithDefaults()
	return &Job{cfg: cfg, log: cfg.Logger.With("component", "silver"), metrics: NewMetrics(cfg.Registerer)}
}

// RunOptions modify one run.
type RunOptions struct {
	// Force processes an hour that is not sealed yet. The run is recorded as partial,
	// so the hour is processed again (idempotently) once it is sealed.
	Force bool
	// Reprocess runs an hour that is already processed again, as if it were not: rows
	// lost from Silver (files a repair removed) are written again, and the dedupe
	// against the touched partitions keeps the rows still there from doubling.
	Reprocess bool
}

// Summary says what a run did.
type Summary struct {
	Table         string      `json:"table"`
	Hour          layout.Hour `json:"hour"`
	BronzeVersion int64       `json:"bronze_version"`
	// Skipped is set when an earlier run already processed this Bronze version.
	Skipped     bool        `json:"skipped"`
	RowsIn      int64       `json:"rows_in"`     // Bronze rows of the hour
	Valid       int64       `json:"valid"`       // rows that passed the contract
	Quarantined int64       `json:"quarantined"` // rows written to quarantine now (0 if an earlier attempt did)
	Duplicates  int64       `json:"duplicates"`  // valid rows dropped as duplicates, in the batch or against Silver
	Late        int64       `json:"late"`        // rows written whose event time is before the ingest hour
	Written     int64       `json:"written"`     // rows appended to Silver (new winners)
	Partitions  []Partition `json:"partitions"`
	Rewritten   []Partition `json:"rewritten"` // partitions rewritten because a new row beat a stored one
	Version     int64       `json:"version"`   // Silver version committed; -1 when nothing was committed
	Duration    Seconds     `json:"duration_seconds"`

	// Empty is set when Bronze holds no data for the hour: nothing was read and
	// nothing committed (see RunHour).
	Empty bool `json:"empty"`
	// FirstDataHour is, for an empty hour, the first ingest hour of the stream that
	// holds data; nil when the stream holds none.
	FirstDataHour *layout.Hour `json:"first_data_hour,omitempty"`
}

// Seconds is a duration that reads as seconds in JSON, the unit a scheduler's log wants.
type Seconds time.Duration

// MarshalJSON writes the duration in seconds.
func (s Seconds) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(s).Seconds())
}

// UnmarshalJSON reads a duration in seconds.
func (s *Seconds) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*s = Seconds(f * float64(time.Second))
	return nil
}

// RunHour processes ingest hour h of the Silver table called table.
//
// An hour after the current one is refused (*FutureHourError), even with Force: no
// record can have been ingested in it. An hour whose Bronze holds no files is not
// read and leaves no commit (Summary.Empty): before the stream's first data, once
// sealed, or forced, since there is nothing to write and nothing will be added to a
// sealed hour; an empty hour that is still open and not forced is *UnsealedError as
// any open hour, for its data may still come.
func (j *Job) RunHour(ctx context.Context, table string, h layout.Hour, opts RunOptions) (Summary, error) {
	start := j.cfg.Now()
	if err := j.notFuture(h); err != nil {
		return Summary{Table: table, Hour: h, Version: -1}, err
	}
	c, err := j.contract(table)
	if err != nil {
		return Summary{}, err
	}
	sum, err := j.untilNoConflict(func() (Summary, error) { return j.runOnce(ctx, c, h, opts) },
		"lost a commit race; re-reading", "table", table, "hour", h.String())
	sum.Duration = Seconds(j.cfg.Now().Sub(start))
	if err != nil {
		j.metrics.runs.WithLabelValues(table, "error").Inc()
		return sum, fmt.Errorf("silver %s hour %s: %w", table, h, err)
	}
	j.metrics.observe(sum)
	j.log.Info("silver hour done", "table", table, "hour", h.String(), "bronze_version", sum.BronzeVersion,
		"skipped", sum.Skipped, "rows_in", sum.RowsIn, "valid", sum.Valid, "quarantined", sum.Quarantined,
		"duplicates", sum.Duplicates, "late", sum.Late, "partitions", len(sum.Partitions),
		"rewritten", len(sum.Rewritten), "version", sum.Version, "duration", time.Duration(sum.Duration))
	return sum, nil
}

// contract compiles the Silver table called name.
func (j *Job) contract(name string) (*Contract, error) {
	t, err := j.table(name)
	if err != nil {
		return nil, err
	}
	return Compile(*t)
}

// untilNoConflict runs once until it succeeds, fails with something other than a lost
// commit race, or has lost MaxAttempts races; each lost race is logged as msg, args.
func (j *Job) untilNoConflict(once func() (Summary, error), msg string, args ...any) (Summary, error) {
	for attempt := 1; ; attempt++ {
		sum, err := once()
		var conflict *lake.ConflictError
		if err == nil || !errors.As(err, &conflict) || attempt >= j.cfg.MaxAttempts {
			return sum, err
		}
		j.log.Info(msg, slices.Concat(args, []any{"attempt", attempt, "reason", conflict.Reason})...)
	}
}

func (j *Job) table(name string) (*pipeline.Table, error) {
	p := j.cfg.Pipeline
	if t := p.Table(name); t != nil {
		return t, nil
	}
	var known []string
	for _, t := range p.Silver {
		known = append(known, t.Name)
	}
	return nil, &UnknownTableError{Name: name, File: p.File, Known: known}
}

// run is the state of one attempt.
type run struct {
	j      *Job
	c      *Contract
	hour   layout.Hour
	sess   *engine.Session
	bronze *lake.Table
	bsnap  *lake.Snapshot
	silver *lake.Table
	ssnap  *lake.Snapshot // nil when the table does not exist yet
	files  []lake.Add     // the Bronze files of the hour
	appID  string
	sealed bool
	// What the commits record: the txn version (the input version read), the job
	// name and the versions of the inputs, for lineage.
	txnVersion int64
	job        string
	inputs     map[string]int64
	sum        Summary
	commitID   string
	// skipEmpty leaves out the Silver commit when there is nothing to write (a
	// replay); an hourly run of an hour with Bronze files always commits, its txn
	// marks the hour done.
	skipEmpty bool
}

func (j *Job) runOnce(ctx context.Context, c *Contract, h layout.Hour, opts RunOptions) (Summary, error) {
	r := &run{j: j, c: c, hour: h, commitID: uuid.NewString()}
	r.sum = Summary{Table: c.Table.Name, Hour: h, Version: -1}
	r.bronze = lake.NewTable(j.cfg.Store, layout.TableRoot(c.Table.Source), lake.WithLogger(j.log))
	r.silver = lake.NewTable(j.cfg.Store, Root(c.Table.Name), lake.WithLogger(j.log))
	var err error
	if r.bsnap, err = r.bronze.Latest(ctx); err != nil {
		if errors.Is(err, lake.ErrNoTable) {
			return r.sum, fmt.Errorf("read bronze/%s: %w (has anything been ingested into stream %s?)", c.Table.Source, err, c.Table.Source)
		}
		return r.sum, fmt.Errorf("read bronze/%s: %w", c.Table.Source, err)
	}
	r.sum.BronzeVersion = r.bsnap.Version
	r.txnVersion, r.job = r.bsnap.Version, "silver"
	r.inputs = map[string]int64{"bronze/" + c.Table.Source: r.bsnap.Version}
	r.sealed = j.cfg.Pipeline.Graces().IsSealed(r.bsnap, c.Table.Source, h)
	r.files = hourFiles(r.bsnap, h)
	if len(r.files) == 0 {
		first, ok := firstDataHour(r.bsnap)
		if before := !ok || h.Time().Before(first.Time()); before || r.sealed || opts.Force {
			r.sum.Empty = true
			if ok {
				r.sum.FirstDataHour = &first
			}
			return r.sum, nil
		}
	}
	if !r.sealed && !opts.Force {
		return r.sum, &UnsealedError{Stream: c.Table.Source, Hour: h}
	}
	r.appID = AppID(c.Table.Name, h)
	if !r.sealed {
		r.appID = partialAppID(c.Table.Name, h)
	}
	if r.ssnap, err = latestOwned(ctx, r.silver); err != nil {
		return r.sum, err
	}
	if !opts.Reprocess && r.done(r.ssnap) {
		r.sum.Skipped = true
		return r.sum, nil
	}
	if r.sess, err = engine.Open(ctx, j.cfg.Engine); err != nil {
		return r.sum, err
	}
	defer r.sess.Close()
	if err := r.parse(ctx); err != nil {
		return r.sum, err
	}
	j.cfg.Hook(HookParsed)
	if err := r.quarantine(ctx); err != nil {
		return r.sum, err
	}
	j.cfg.Hook(HookQuarantineCommitted)
	if err := r.merge(ctx); err != nil {
		return r.sum, err
	}
	j.cfg.Hook(HookCommitted)
	return r.sum, nil
}

// done reports whether snap already holds this run's result: a sealed hour is done
// once any run of it committed (a sealed hour never changes); a partial run is done
// when it read the Bronze version there is now.
func (r *run) done(snap *lake.Snapshot) bool {
	if snap == nil {
		return false
	}
	if _, ok := snap.TxnVersion(AppID(r.c.Table.Name, r.hour)); ok {
		return true
	}
	v, ok := snap.TxnVersion(r.appID)
	return ok && !r.sealed && v >= r.bsnap.Version
}

// latestOwned loads a table that the job writes (Silver or quarantine). Its txns are
// the record of which hours and replays are done, so a table whose txn retention could
// expire one is refused: an expired marker would process an hour a second time.
func latestOwned(ctx context.Context, t *lake.Table) (*lake.Snapshot, error) {
	snap, err := latestOrNil(ctx, t)
	if err != nil || snap == nil {
		return snap, err
	}
	r, err := snap.TxnRetention()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t, err)
	}
	if r.All > 0 || (len(r.Prefixes) > 0 && r.Prefixed > 0) {
		return nil, fmt.Errorf("%s: table properties %s or %s would expire the txn markers that record processed hours; remove them",
			t, lake.PropSetTransactionRetention, lake.PropTxnRetentionPrefixes)
	}
	return snap, nil
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

// firstDataHour returns the earliest ingest hour that holds a file of the Bronze
// table at snap; false when it holds none.
func firstDataHour(snap *lake.Snapshot) (layout.Hour, bool) {
	var first layout.Hour
	ok := false
	for _, a := range snap.Files() {
		if h, hok := layout.FileHour(&a); hok && (!ok || h.Time().Before(first.Time())) {
			first, ok = h, true
		}
	}
	return first, ok
}

// hourFiles returns the Bronze files of ingest hour h.
func hourFiles(snap *lake.Snapshot, h layout.Hour) []lake.Add {
	var out []lake.Add
	for _, a := range snap.Files() {
		if fh, ok := layout.FileHour(&a); ok && fh == h {
			out = append(out, a)
		}
	}
	return out
}

// parse registers the hour's Bronze files and materializes the batch.
func (r *run) parse(ctx context.Context) error {
	resolver := engine.TableFiles(r.bronze, r.j.cfg.Cache)
	if err := r.sess.RegisterFiles(ctx, "bronze", r.c.Table.Source, r.bsnap, r.files, resolver); err != nil {
		return err
	}
	return r.materialize(ctx, sqlfrag.Qualified("bronze", r.c.Table.Source))
}

// materialize registers the reference tables and stores the compiled query's result
// over src as the temp table batch: every input row, parsed once, with its reason and
// rank.
func (r *run) materialize(ctx context.Context, src sqlfrag.SQL) error {
	refs, err := r.registerRefs(ctx)
	if err != nil {
		return err
	}
	query := r.c.Query(src, refs)
	create := sqlfrag.Fmt("CREATE OR REPLACE TEMP TABLE %s AS %s", rel(relBatch), query)
	if _, err := r.sess.ExecContext(ctx, create.String()); err != nil {
		return fmt.Errorf("parse and check: %w", err)
	}
	row := r.sess.QueryRowContext(ctx, sqlfrag.Fmt(
		"SELECT count(*), count(*) FILTER (%[1]s IS NULL), count(*) FILTER (%[1]s IS NULL AND %[2]s > 1) FROM %[3]s",
		sqlfrag.Ident(colReason), sqlfrag.Ident(colRank), rel(relBatch)).String())
	if err := row.Scan(&r.sum.RowsIn, &r.sum.Valid, &r.sum.Duplicates); err != nil {
		return fmt.Errorf("count batch: %w", err)
	}
	return nil
}

// registerRefs registers the contract's reference tables and records the versions
// read as the run's inputs.
func (r *run) registerRefs(ctx context.Context) (Refs, error) {
	refs, versions, err := r.c.RegisterRefs(ctx, r.sess, r.j.cfg.Store, r.j.cfg.Cache)
	for name, v := range versions {
		r.inputs[RefRoot(name)] = v
	}
	return refs, err
}

// Pending returns every sealed ingest hour of the table's stream that Silver has not
// processed yet, oldest first.
func (j *Job) Pending(ctx context.Context, table string) ([]layout.Hour, error) {
	t, err := j.table(table)
	if err != nil {
		return nil, err
	}
	bsnap, err := latestOrNil(ctx, lake.NewTable(j.cfg.Store, layout.TableRoot(t.Source)))
	if err != nil || bsnap == nil {
		return nil, err
	}
	ssnap, err := latestOrNil(ctx, lake.NewTable(j.cfg.Store, Root(t.Name)))
	if err != nil {
		return nil, err
	}
	graces := j.cfg.Pipeline.Graces()
	seen := map[layout.Hour]bool{}
	var out []layout.Hour
	for _, a := range bsnap.Files() {
		h, ok := layout.FileHour(&a)
		if !ok || seen[h] {
			continue
		}
		seen[h] = true
		if !graces.IsSealed(bsnap, t.Source, h) {
			continue
		}
		if ssnap != nil {
			if _, done := ssnap.TxnVersion(AppID(t.Name, h)); done {
				continue
			}
		}
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b layout.Hour) int { return a.Time().Compare(b.Time()) })
	return out, nil
}
