package bronze

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/internal/wait"
	"github.com/lakectl/lakectl/lake"
	"golang.org/x/sync/errgroup"
)

// tableWriter commits flushes to the Bronze table of one stream.
type tableWriter struct {
	stream  string
	table   *lake.Table
	log     *slog.Logger
	metrics *Metrics
}

func newTableWriter(store lake.Store, stream string, log *slog.Logger, m *Metrics) *tableWriter {
	return &tableWriter{
		stream:  stream,
		table:   lake.NewTable(store, layout.TableRoot(stream)),
		log:     log.With("stream", stream),
		metrics: m,
	}
}

// partFlush is what one flush commits for one Kafka partition: its finished files
// (none for an idle partition, which only advances its mark), the ledger position
// they continue from, and the position after them.
type partFlush struct {
	TP        TopicPartition
	Files     []*dataFile
	Expect    position
	Next      int64 // ledger version after the files; meaningful when Files is not empty
	MinIngest int64 // µs; the earliest ingested_at among the files' rows
}

// flushResult says which partitions were committed and which were lost to another
// writer (their files were not committed and their records must be re-read).
type flushResult struct {
	Version   int64
	Committed []TopicPartition
	Lost      []TopicPartition
}

// upload puts the finished files into the table's directory. Uploads are retried
// through outages; a file that was uploaded but never committed is an orphan that
// vacuum removes, never a visible row.
func (w *tableWriter) upload(ctx context.Context, files []*dataFile) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, f := range files {
		g.Go(func() error {
			key := path.Join(w.table.Root(), f.Path)
			return backoff(gctx, w.log, "upload "+key, func() error {
				r, err := f.Open()
				if err != nil {
					return err
				}
				if err := w.table.Store().Put(gctx, key, r, f.Size); err != nil {
					return fmt.Errorf("upload %s: %w", key, err)
				}
				return nil
			})
		})
	}
	return g.Wait()
}

// register records the stream under StreamsPrefix before its table is created, so
// Streams finds every table with one small listing.
func (w *tableWriter) register(ctx context.Context) error {
	key := StreamsPrefix + w.stream
	return backoff(ctx, w.log, "register "+key, func() error {
		if err := w.table.Store().Put(ctx, key, strings.NewReader(""), 0); err != nil {
			return fmt.Errorf("register stream %s: %w", w.stream, err)
		}
		return nil
	})
}

// latest loads the newest snapshot, nil when the table does not exist yet.
func (w *tableWriter) latest(ctx context.Context) (*lake.Snapshot, error) {
	var snap *lake.Snapshot
	err := backoff(ctx, w.log, "read "+w.table.Root(), func() error {
		s, err := w.table.Latest(ctx)
		if errors.Is(err, lake.ErrNoTable) {
			snap = nil
			return nil
		}
		if err == nil {
			if rerr := checkTxnRetention(s); rerr != nil {
				return fmt.Errorf("bronze/%s: %w", w.stream, rerr)
			}
		}
		snap = s
		return err
	})
	return snap, err
}

// commitKafka uploads the flush's files and commits them, with the ledger and
// sealing marks of every partition, in one Delta commit. Partitions whose ledger
// no longer holds the expected position, or whose mark has passed their rows, are
// left out and reported as lost.
func (w *tableWriter) commitKafka(ctx context.Context, parts []partFlush, markAt time.Time) (flushResult, error) {
	var files []*dataFile
	for _, p := range parts {
		files = append(files, p.Files...)
	}
	if err := w.upload(ctx, files); err != nil {
		return flushResult{}, err
	}
	start := time.Now()
	var res flushResult
	mine := map[string]bool{} // paths this flush adds, to recognise our own commit
	for _, f := range files {
		mine[f.Path] = true
	}
	for attempt := 0; ; attempt++ {
		snap, err := w.latest(ctx)
		if err != nil {
			return flushResult{}, fmt.Errorf("commit bronze/%s: %w", w.stream, err)
		}
		if attempt > 0 && len(files) > 0 && containsAny(snap, mine) {
			// The previous attempt's commit landed although it reported an error.
			res.Version = snap.Version
			return res, nil
		}
		tx, committed, lost := w.buildKafkaTx(snap, parts, markAt)
		res = flushResult{Committed: committed, Lost: lost}
		if tx == nil {
			return res, nil
		}
		if snap == nil {
			if err := w.register(ctx); err != nil {
				return flushResult{}, err
			}
		}
		v, err := tx.Commit(ctx)
		var conflict *lake.ConflictError
		switch {
		case err == nil:
			res.Version = v
			w.metrics.commitDone(w.stream, time.Since(start), files)
			return res, nil
		case errors.As(err, &conflict):
			// Someone advanced a ledger entry this commit sets: re-read, and the
			// checks in buildKafkaTx find out which partitions we lost.
			w.log.Info("commit conflict, re-reading the ledger", "err", err)
			continue
		case ctx.Err() != nil:
			return flushResult{}, fmt.Errorf("commit bronze/%s: %w", w.stream, err)
		case !retryable(err):
			w.metrics.CommitErrors.WithLabelValues(w.stream).Inc()
			return flushResult{}, fmt.Errorf("commit bronze/%s: %w", w.stream, err)
		default:
			w.metrics.CommitErrors.WithLabelValues(w.stream).Inc()
			w.log.Warn("commit failed, retrying", "attempt", attempt, "err", err)
			if err := wait.Sleep(ctx, retryDelay(attempt)); err != nil {
				return flushResult{}, fmt.Errorf("commit bronze/%s: %w", w.stream, err)
			}
		}
	}
}

// buildKafkaTx checks every partition against the ledger in snap and builds the
// commit of those that pass; tx is nil when nothing is left to commit.
func (w *tableWriter) buildKafkaTx(snap *lake.Snapshot, parts []partFlush, markAt time.Time) (tx *lake.Tx, committed, lost []TopicPartition) {
	now := time.Now()
	markMs := markAt.UnixMilli()
	var adds []lake.Add
	type txn struct {
		appID   string
		version int64
	}
	var txns []txn
	// A partition without a mark of its own is invisible to IsSealed, so its rows
	// must not go into an hour that the other marks have all passed.
	lowest, anyMark := int64(0), false
	for _, v := range ReadLedger(snap).Marks {
		if !anyMark || v < lowest {
			lowest, anyMark = v, true
		}
	}
	for _, p := range parts {
		have := ledgerPosition(snap, p.TP)
		wmID := layout.KafkaWatermarkAppID(p.TP.Topic, p.TP.Partition)
		wm := mark(snap, wmID)
		if anyMark && len(p.Files) > 0 && !hasTxn(snap, wmID) &&
			layout.HourOf(time.UnixMicro(p.MinIngest)).End().UnixMilli() <= lowest {
			wm = lowest // refuse rows of an hour that may be reported sealed
		}
		if have != p.Expect || (len(p.Files) > 0 && p.MinIngest/1000 < wm) {
			w.log.Warn("partition lost to another writer; dropping its uncommitted files",
				"partition", p.TP.String(), "expected", p.Expect.String(), "ledger", have.String(),
				"mark", wm, "files", len(p.Files))
			lost = append(lost, p.TP)
			continue
		}
		committed = append(committed, p.TP)
		appID := layout.KafkaAppID(p.TP.Topic, p.TP.Partition)
		switch {
		case len(p.Files) > 0:
			for _, f := range p.Files {
				adds = append(adds, f.add(now))
			}
			txns = append(txns, txn{appID, p.Next})
			if !have.Known {
				first := p.Files[0].Stats.MinOffset
				for _, f := range p.Files[1:] {
					first = min(first, f.Stats.MinOffset)
				}
				txns = append(txns, txn{KafkaFirstAppID(p.TP.Topic, p.TP.Partition), first})
			}
		case have.Known:
			// Re-assert the unchanged position, so that a concurrent writer that
			// advances it makes this mark-only commit conflict.
			txns = append(txns, txn{appID, have.Offset})
		}
		txns = append(txns, txn{wmID, max(markMs, wm)})
	}
	if len(adds) == 0 && len(txns) == 0 {
		return nil, committed, lost
	}
	tx = w.table.Begin(snap)
	if snap == nil {
		tx.SetMetadata(NewMetadata(uuid.NewString(), w.stream, now))
	}
	tx.Add(adds...)
	for _, t := range txns {
		tx.SetTxn(t.appID, t.version)
	}
	op := "STREAMING UPDATE"
	tx.Operation(op, map[string]any{"outputMode": "Append", "source": "kafka"})
	tx.Info("lakectl", map[string]any{"job": "bronze/" + w.stream, "files": len(adds)})
	return tx, committed, lost
}

func hasTxn(snap *lake.Snapshot, appID string) bool {
	if snap == nil {
		return false
	}
	_, ok := snap.TxnVersion(appID)
	return ok
}

func containsAny(snap *lake.Snapshot, paths map[string]bool) bool {
	if snap == nil {
		return false
	}
	for _, a := range snap.Files() {
		if paths[a.DecodedPath()] {
			return true
		}
	}
	return false
}

func retryDelay(attempt int) time.Duration {
	d := 100 * time.Millisecond << min(attempt, 7)
	return min(d, 10*time.Second)
}
