package bronze

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake"
)

// Compaction rewrites the many small files of a sealed ingest hour into few large
// ones, in one commit that removes the old files and adds the new, both with
// dataChange=false: the rows are the same, byte for byte, so readers that follow
// the log for new data (Silver's live tail, Delta streaming readers) skip it.
//
// It is safe beside ingest because it only touches sealed hours, which no ingest
// commit adds to, and because a commit only commutes with blind appends: two
// compactors of one hour conflict on the files both remove, and the loser plans
// again and finds nothing left to do. Until the commit lands the table is as
// before; files uploaded by a compaction that crashed or lost are unreferenced and
// vacuum removes them after its retention period.
//
// A compacted file carries TagCompacted and is never rewritten, so compaction is
// idempotent: an hour whose small files are all compacted has nothing to do. Files
// at least TargetSize large, and files without offset tags, are left as they are.

// CompactOptions configure compaction of sealed Bronze hours.
type CompactOptions struct {
	// TargetSize is the size of the files compaction writes, estimated from the
	// sizes of the files it merges; files at least this large are left alone.
	// Default 128 MiB.
	TargetSize int64
	// Graces decides which hours of each stream are sealed (layout.Graces).
	// Default layout.DefaultGrace for every stream.
	Graces layout.Graces
	// Files bounds the row groups of the new files and names the spool directory.
	Files FileOptions
	// Logger receives progress and retries. Default: discarded.
	Logger *slog.Logger
	// Metrics counts compactions; nil keeps unregistered ones.
	Metrics *Metrics
}

// DefaultCompactSize is CompactOptions.TargetSize's default.
const DefaultCompactSize = 128 << 20

// CompactResult says what compaction did to one hour of one stream.
type CompactResult struct {
	Stream string `json:"stream"`
	Hour   string `json:"hour"`
	// Version is the compaction's commit; -1 when there was nothing to do.
	Version  int64 `json:"version"`
	Removed  int   `json:"files_removed"`
	Added    int   `json:"files_added"`
	Rows     int64 `json:"rows"`
	BytesIn  int64 `json:"bytes_in"`
	BytesOut int64 `json:"bytes_out"`
}

// UnsealedError is returned when asked to compact an hour that is not sealed.
type UnsealedError struct {
	Stream string
	Hour   layout.Hour
}

func (e *UnsealedError) Error() string {
	return fmt.Sprintf("hour %s of bronze/%s is not sealed yet; only sealed hours are compacted", e.Hour, e.Stream)
}

// Compactor compacts the sealed hours of Bronze tables in one store.
//
//	c := bronze.NewCompactor(store, bronze.CompactOptions{})
//	results, err := c.Sealed(ctx, "events") // every sealed hour with small files
type Compactor struct {
	store lake.Store
	opts  CompactOptions
	log   *slog.Logger
	pool  writerMaker
}

// NewCompactor returns a compactor of the Bronze tables in store.
func NewCompactor(store lake.Store, opts CompactOptions) *Compactor {
	if opts.TargetSize <= 0 {
		opts.TargetSize = DefaultCompactSize
	}
	opts.Files = opts.Files.withDefaults()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(nil)
	}
	return &Compactor{store: store, opts: opts, log: opts.Logger.With("component", "bronze-compact"), pool: writerMaker{opts: opts.Files}}
}

// compactAttempts bounds how often one hour is planned again after losing a commit
// to a concurrent compactor.
const compactAttempts = 5

// Hour compacts ingest hour h of stream, which must be sealed (*UnsealedError
// otherwise). It returns Version -1 when the hour has nothing to compact.
func (c *Compactor) Hour(ctx context.Context, stream string, h layout.Hour) (CompactResult, error) {
	t := lake.NewTable(c.store, layout.TableRoot(stream), lake.WithLogger(c.log))
	w := newTableWriter(c.store, stream, c.log, c.opts.Metrics)
	res := CompactResult{Stream: stream, Hour: h.String(), Version: -1}
	for attempt := 0; ; attempt++ {
		snap, err := t.Latest(ctx)
		if err != nil {
			return res, fmt.Errorf("compact bronze/%s hour %s: %w", stream, h, err)
		}
		if !c.opts.Graces.IsSealed(snap, stream, h) {
			return res, &UnsealedError{Stream: stream, Hour: h}
		}
		groups := planHour(snap, h, c.opts.TargetSize)
		if len(groups) == 0 {
			return res, nil
		}
		if attempt == compactAttempts {
			return res, fmt.Errorf("compact bronze/%s hour %s: gave up after %d attempts against concurrent compactions", stream, h, attempt)
		}
		res, err = c.rewrite(ctx, w, snap, h, groups)
		var conflict *lake.ConflictError
		if errors.As(err, &conflict) {
			// Another compactor took some of these files: what it wrote stands, ours
			// are orphans for vacuum, and the next plan sees what is left.
			c.log.Info("compaction lost to a concurrent commit; planning again", "stream", stream, "hour", h.String(), "err", err)
			continue
		}
		return res, err
	}
}

// Sealed compacts every sealed hour of stream that has small files, oldest first.
func (c *Compactor) Sealed(ctx context.Context, stream string) ([]CompactResult, error) {
	t := lake.NewTable(c.store, layout.TableRoot(stream), lake.WithLogger(c.log))
	snap, err := t.Latest(ctx)
	if err != nil {
		return nil, fmt.Errorf("compact bronze/%s: %w", stream, err)
	}
	var out []CompactResult
	for _, h := range hoursToCompact(snap, c.opts.Graces.Of(stream), c.opts.TargetSize) {
		res, err := c.Hour(ctx, stream, h)
		if err != nil {
			return out, err
		}
		if res.Version >= 0 {
			out = append(out, res)
		}
	}
	return out, nil
}

// hoursToCompact lists the sealed hours of snap that have files to merge.
func hoursToCompact(snap *lake.Snapshot, grace time.Duration, target int64) []layout.Hour {
	seen := map[layout.Hour]bool{}
	var out []layout.Hour
	for _, a := range snap.Files() {
		h, ok := layout.FileHour(&a)
		if !ok || seen[h] {
			continue
		}
		seen[h] = true
		if layout.IsSealed(snap, h, grace) && len(planHour(snap, h, target)) > 0 {
			out = append(out, h)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time().Before(out[j].Time()) })
	return out
}

// planHour groups the small, uncompacted files of hour h into the files to write:
// in source and offset order, each group up to target bytes. A group of one file
// is not worth a rewrite, so an hour with fewer than two such files has no plan.
func planHour(snap *lake.Snapshot, h layout.Hour, target int64) [][]lake.Add {
	type cand struct {
		add   lake.Add
		first Span
	}
	var cands []cand
	for _, a := range snap.Files() {
		fh, ok := layout.FileHour(&a)
		if !ok || fh != h || a.Tags[TagCompacted] != "" || a.Size >= target {
			continue
		}
		spans, ok := FileSpans(&a)
		if !ok || len(spans) == 0 {
			continue // without offset tags its ledger range could not be kept
		}
		cands = append(cands, cand{a, spans[0]})
	}
	if len(cands) < 2 {
		return nil
	}
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i].first, cands[j].first
		if ka, kb := a.key(), b.key(); ka != kb {
			return ka < kb
		}
		return a.First < b.First
	})
	var groups [][]lake.Add
	var cur []lake.Add
	var size int64
	for _, c := range cands {
		if len(cur) > 0 && size+c.add.Size > target {
			groups = append(groups, cur)
			cur, size = nil, 0
		}
		cur = append(cur, c.add)
		size += c.add.Size
	}
	groups = append(groups, cur)
	out := groups[:0]
	for _, g := range groups {
		if len(g) > 1 {
			out = append(out, g)
		}
	}
	return out
}

// rewrite writes one file per group, uploads them, and commits the swap.
func (c *Compactor) rewrite(ctx context.Context, w *tableWriter, snap *lake.Snapshot, h layout.Hour, groups [][]lake.Add) (CompactResult, error) {
	res := CompactResult{Stream: w.stream, Hour: h.String(), Version: -1}
	index := spanIndex(snap)
	var outs []*dataFile
	defer func() {
		for _, f := range outs {
			f.Discard()
		}
	}()
	var spans [][]Span
	for _, g := range groups {
		f, s, err := c.merge(ctx, w.table, h, g, index)
		if f != nil {
			outs = append(outs, f)
		}
		if err != nil {
			return res, fmt.Errorf("compact bronze/%s hour %s: %w", w.stream, h, err)
		}
		spans = append(spans, s)
	}
	if err := w.upload(ctx, outs); err != nil {
		return res, fmt.Errorf("compact bronze/%s hour %s: %w", w.stream, h, err)
	}

	now := time.Now()
	tx := w.table.Begin(snap)
	for _, g := range groups {
		for _, a := range g {
			r := a.RemoveAt(now)
			r.DataChange = false
			tx.Remove(r)
			res.Removed++
			res.BytesIn += a.Size
		}
	}
	for i, f := range outs {
		a := f.add(now)
		a.DataChange = false
		a.Tags = spanTags(spans[i])
		tx.Add(a)
		res.Added++
		res.Rows += f.Rows()
		res.BytesOut += f.Size
	}
	pv := layout.PartitionValues(h)
	tx.Operation("OPTIMIZE", map[string]any{
		"predicate":  fmt.Sprintf("%s = '%s' AND %s = %s", layout.ColIngestDate, *pv[layout.ColIngestDate], layout.ColIngestHour, *pv[layout.ColIngestHour]),
		"targetSize": strconv.FormatInt(c.opts.TargetSize, 10),
	})
	tx.Info("lakectl", map[string]any{"job": "bronze/" + w.stream + "/compact", "hour": h.String(),
		"filesRemoved": res.Removed, "filesAdded": res.Added, "readVersion": snap.Version})
	v, err := tx.Commit(ctx)
	if err != nil {
		return res, fmt.Errorf("commit compaction of bronze/%s hour %s: %w", w.stream, h, err)
	}
	res.Version = v
	c.opts.Metrics.Compactions.WithLabelValues(w.stream).Inc()
	c.opts.Metrics.CompactedFiles.WithLabelValues(w.stream).Add(float64(res.Removed))
	c.log.Info("compacted hour", "stream", w.stream, "hour", h.String(), "version", v,
		"removed", res.Removed, "added", res.Added, "rows", res.Rows, "bytes_in", res.BytesIn, "bytes_out", res.BytesOut)
	return res, nil
}
