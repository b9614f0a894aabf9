package bronze

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/internal/wait"
	"github.com/lakectl/lakectl/lake"
	"github.com/prometheus/client_golang/prometheus"
)

// httpBatcher group-commits the HTTP requests of one stream: requests that arrive
// while a commit is being prepared share the next one, and each request is answered
// only once the commit that holds its events has landed.
//
// HTTP rows get gapless sequence numbers in the offset column (partition -1): the
// ledger appId http/<stream> holds the next one, so concurrent replicas serialise on
// it, and a commit that loses re-encodes its rows with fresh numbers. The same
// commit advances watermark/http/<stream> to the rows' ingested_at, which is never
// earlier than the previous mark, so a sealed hour never receives an HTTP row.
//
// A permanent error (see retryable), such as a Bronze log that does not parse,
// stops the batcher committing: it answers every request, queued or new, with that
// error (503) and reports it to the service, which shuts down.
type httpBatcher struct {
	w     *tableWriter
	cfg   HTTPConfig
	log   *slog.Logger
	pool  writerMaker
	queue chan *httpReq
	room  chan struct{} // signalled when pending bytes fall
	recs  prometheus.Counter
	bytes prometheus.Counter
	grace time.Duration
	now   func() time.Time // the service's clock (Config.Now)
	// hard is the context commits run on: it outlives the batcher's own context
	// until the service's shutdown deadline, so queued requests are still
	// committed after a signal, but never hold the process past the deadline.
	hard context.Context
	fail func(error) // reports a permanent error to the service

	mu      sync.Mutex
	pending int64
	failed  error // the permanent error that stopped the batcher
}

type httpReq struct {
	lines    [][]byte
	size     int64
	received time.Time
	producer string // with seq, the idempotency key; "" when the request has none
	seq      int64
	done     chan httpResult // buffered: the batcher never blocks on a gone client
}

type httpResult struct {
	res IngestResponse
	err error
}

func newHTTPBatcher(w *tableWriter, cfg HTTPConfig, files FileOptions, grace time.Duration, now func() time.Time,
	hard context.Context, fail func(error), m *Metrics, log *slog.Logger) *httpBatcher {
	return &httpBatcher{
		w: w, cfg: cfg, log: log, grace: grace, now: now, hard: hard, fail: fail,
		pool:  writerMaker{opts: files},
		queue: make(chan *httpReq, 1024),
		room:  make(chan struct{}, 1),
		recs:  m.Records.WithLabelValues(w.stream, SourceHTTP),
		bytes: m.Bytes.WithLabelValues(w.stream, SourceHTTP),
	}
}

// submit queues req and waits for the commit that holds its lines.
func (b *httpBatcher) submit(ctx context.Context, req *httpReq) (IngestResponse, error) {
	if err := b.failure(); err != nil {
		return IngestResponse{}, err
	}
	if err := b.reserve(ctx, req.size); err != nil {
		return IngestResponse{}, err
	}
	req.done = make(chan httpResult, 1)
	select {
	case b.queue <- req:
	case <-ctx.Done():
		b.release(req.size)
		return IngestResponse{}, ctx.Err()
	}
	select {
	case r := <-req.done:
		return r.res, r.err
	case <-ctx.Done():
		// The client is gone; the events may still be committed, unacknowledged.
		return IngestResponse{}, ctx.Err()
	}
}

// reserve waits for room under MaxPendingBytes: backpressure on fast clients.
func (b *httpBatcher) reserve(ctx context.Context, size int64) error {
	deadline := time.NewTimer(b.cfg.QueueTimeout)
	defer deadline.Stop()
	for {
		b.mu.Lock()
		if b.pending+size <= b.cfg.MaxPendingBytes {
			b.pending += size
			b.mu.Unlock()
			return nil
		}
		b.mu.Unlock()
		select {
		case <-b.room:
		case <-deadline.C:
			return errors.New("ingest is busy: too many uncommitted bytes; retry later")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (b *httpBatcher) release(size int64) {
	b.mu.Lock()
	b.pending -= size
	b.mu.Unlock()
	select {
	case b.room <- struct{}{}:
	default:
	}
}

// run commits batches until ctx ends, then commits what is queued and returns. It
// also advances the stream's mark while idle at the seal points Kafka partitions use
// (each hour boundary and once the grace after it has passed) and, like Kafka
// ingest, once at shutdown after the last batch, so that the hours before a clean
// stop can be sealed without waiting for the next start.
func (b *httpBatcher) run(ctx context.Context) {
	sealAt := nextSealPoint(b.now(), b.grace)
	for {
		t := time.NewTimer(max(sealAt.Sub(b.now()), 0))
		select {
		case req := <-b.queue:
			t.Stop()
			b.commitBatch(b.hard, b.gather(ctx, req))
		case <-t.C:
			b.commitBatch(ctx, nil) // advances the mark of an idle stream
			sealAt = nextSealPoint(b.now(), b.grace)
		case <-ctx.Done():
			t.Stop()
			b.drain()
			b.commitBatch(b.hard, nil)
			return
		}
	}
}

// gather collects the requests that arrive within BatchDelay of the first.
func (b *httpBatcher) gather(ctx context.Context, first *httpReq) []*httpReq {
	batch := []*httpReq{first}
	size := first.size
	t := time.NewTimer(b.cfg.BatchDelay)
	defer t.Stop()
	for size < b.cfg.MaxBatchBytes {
		select {
		case req := <-b.queue:
			batch = append(batch, req)
			size += req.size
		case <-t.C:
			return batch
		case <-ctx.Done():
			return batch
		}
	}
	return batch
}

func (b *httpBatcher) drain() {
	for {
		select {
		case req := <-b.queue:
			b.commitBatch(b.hard, b.gather(b.hard, req))
		default:
			return
		}
	}
}

// commitBatch writes one file with every line of batch and commits it; with an
// empty batch it only advances the stream's mark. Every request gets its answer:
// once the batcher has failed, that is the error that stopped it.
func (b *httpBatcher) commitBatch(ctx context.Context, batch []*httpReq) {
	var results []IngestResponse
	err := b.failure()
	if err == nil {
		results, err = b.commit(ctx, batch)
		if err != nil && !retryable(err) && ctx.Err() == nil {
			b.stop(err)
		}
	}
	for i, req := range batch {
		if err != nil {
			req.done <- httpResult{err: err}
		} else {
			req.done <- httpResult{res: results[i]}
		}
		b.release(req.size)
	}
	if err != nil && len(batch) > 0 {
		b.log.Error("HTTP batch not committed, or its outcome unknown; its requests get 503", "requests", len(batch), "err", err)
	}
}

// failure is the permanent error that stopped the batcher, nil while it works.
func (b *httpBatcher) failure() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failed
}

// stop records err as the batcher's permanent failure and reports it, once.
func (b *httpBatcher) stop(err error) {
	b.mu.Lock()
	first := b.failed == nil
	if first {
		b.failed = err
	}
	b.mu.Unlock()
	if first {
		b.log.Error("permanent error; HTTP ingest of the stream stops and answers 503", "err", err)
		b.fail(err)
	}
}

func (b *httpBatcher) commit(ctx context.Context, batch []*httpReq) ([]IngestResponse, error) {
	stream := b.w.stream
	start := time.Now()
	for attempt := 0; ; attempt++ {
		snap, err := b.w.latest(ctx)
		if err != nil {
			return nil, fmt.Errorf("read bronze/%s: %w", stream, err)
		}
		var seq int64
		if snap != nil {
			seq, _ = snap.TxnVersion(layout.HTTPAppID(stream))
		}
		wm := mark(snap, layout.HTTPWatermarkAppID(stream))
		at := b.now()
		if at.UnixMilli() < wm {
			at = time.UnixMilli(wm) // never stamp rows before the mark
		}
		fresh, keys := b.dedupe(snap, batch)
		if len(batch) > 0 && len(fresh) == 0 {
			// Every request is a retry of a committed batch: nothing to write.
			return b.answered(batch, nil, nil, snap.Version), nil
		}
		f, results, err := b.encode(fresh, seq, at)
		if err != nil {
			return nil, err
		}
		if f != nil {
			if err := b.w.upload(ctx, []*dataFile{f}); err != nil {
				f.Discard()
				return nil, err
			}
		}
		tx := b.w.table.Begin(snap)
		if snap == nil {
			tx.SetMetadata(NewMetadata(uuid.NewString(), stream, at))
			if err := b.w.register(ctx); err != nil {
				b.abandon(ctx, f)
				return nil, err
			}
		}
		var n int64
		if f != nil {
			tx.Add(f.add(at))
			n = f.Rows()
		}
		tx.SetTxn(layout.HTTPAppID(stream), seq+n)
		tx.SetTxn(layout.HTTPWatermarkAppID(stream), max(at.UnixMilli(), wm))
		for appID, v := range keys {
			tx.SetTxn(appID, v)
		}
		tx.Operation("STREAMING UPDATE", map[string]any{"outputMode": "Append", "source": "http"})
		tx.Info("lakectl", map[string]any{"job": "bronze/" + stream, "requests": len(batch)})
		v, err := tx.Commit(ctx)
		var conflict *lake.ConflictError
		switch {
		case err == nil:
			if f != nil {
				b.w.metrics.commitDone(stream, time.Since(start), []*dataFile{f})
				b.recs.Add(float64(n))
				b.bytes.Add(float64(f.Bytes))
				f.Discard()
			}
			b.w.metrics.SealedMark.WithLabelValues(stream, layout.HTTPWatermarkAppID(stream)).Set(float64(at.Unix()))
			return b.answered(batch, fresh, results, v), nil
		case errors.As(err, &conflict):
			// Another replica took these sequence numbers (or committed one of
			// these producers' batches): renumber, check the keys again, retry.
			b.abandon(ctx, f)
			continue
		default:
			v, ok, known := b.landed(ctx, f)
			if ok {
				// The commit landed although the store reported an error.
				f.Discard()
				return b.answered(batch, fresh, results, v), nil
			}
			b.w.metrics.CommitErrors.WithLabelValues(stream).Inc()
			if !known {
				// The file may be in a commit: leave it (vacuum removes it if not),
				// and do not commit the lines again under new numbers.
				if f != nil {
					f.Discard()
				}
				return nil, fmt.Errorf("commit bronze/%s: outcome unknown: %w", stream, err)
			}
			b.abandon(ctx, f)
			if ctx.Err() != nil || attempt >= 8 || !retryable(err) {
				return nil, fmt.Errorf("commit bronze/%s: %w", stream, err)
			}
			b.log.Warn("HTTP commit failed, retrying", "attempt", attempt, "err", err)
			if err := wait.Sleep(ctx, retryDelay(attempt)); err != nil {
				return nil, fmt.Errorf("commit bronze/%s: %w", stream, err)
			}
		}
	}
}

// dedupe returns the requests of batch that must be written, and the producer
// sequence numbers their commit records. A keyed request whose number is not above
// its producer's, as recorded in snap or by an earlier request of the batch, is a
// retry of a committed batch (or of one this commit writes) and is left out.
func (b *httpBatcher) dedupe(snap *lake.Snapshot, batch []*httpReq) (fresh []*httpReq, keys map[string]int64) {
	for _, req := range batch {
		if req.producer == "" {
			fresh = append(fresh, req)
			continue
		}
		appID := HTTPProducerAppID(b.w.stream, req.producer)
		last, ok := keys[appID]
		if !ok && snap != nil {
			last, _ = snap.TxnVersion(appID)
		}
		if req.seq <= last {
			continue
		}
		if keys == nil {
			keys = map[string]int64{}
		}
		keys[appID] = req.seq
		fresh = append(fresh, req)
	}
	return fresh, keys
}

// answered returns the answers to batch once version v holds it. fresh are the
// requests that were written, in batch order, and results their answers; the
// others are duplicates.
func (b *httpBatcher) answered(batch, fresh []*httpReq, results []IngestResponse, v int64) []IngestResponse {
	out := make([]IngestResponse, len(batch))
	j := 0
	for i, req := range batch {
		if j < len(fresh) && fresh[j] == req {
			out[i] = results[j]
			j++
		} else {
			out[i] = IngestResponse{Accepted: len(req.lines), FirstSeq: -1, Duplicate: true}
			b.w.metrics.HTTPDuplicates.WithLabelValues(b.w.stream).Inc()
		}
		out[i].Version = v
	}
	return out
}

// landed reports whether f made it into the table after all, and a version that
// holds it; known is false when the table could not be read to find out.
func (b *httpBatcher) landed(ctx context.Context, f *dataFile) (v int64, ok, known bool) {
	if f == nil {
		return 0, false, true
	}
	snap, err := b.w.latest(ctx)
	if err != nil {
		return 0, false, false
	}
	if snap == nil {
		return 0, false, true
	}
	_, ok = snap.File(f.Path)
	return snap.Version, ok, true
}

// abandon removes a file that no commit references.
func (b *httpBatcher) abandon(ctx context.Context, f *dataFile) {
	if f == nil {
		return
	}
	if err := b.w.table.Store().Delete(ctx, path.Join(b.w.table.Root(), f.Path)); err != nil {
		b.log.Debug("remove uncommitted file; vacuum will", "path", f.Path, "err", err)
	}
	f.Discard()
}

// encode writes every line of batch into one file, numbered from seq and stamped at.
func (b *httpBatcher) encode(batch []*httpReq, seq int64, at time.Time) (*dataFile, []IngestResponse, error) {
	if len(batch) == 0 {
		return nil, nil, nil
	}
	f, err := newDataFile(&b.pool, layout.HourOf(at))
	if err != nil {
		return nil, nil, err
	}
	atUs := at.UnixMicro()
	results := make([]IngestResponse, len(batch))
	for i, req := range batch {
		results[i] = IngestResponse{Accepted: len(req.lines), FirstSeq: seq}
		src := req.received.UnixMicro()
		for _, line := range req.lines {
			row := Row{Payload: line, Source: SourceHTTP, Partition: -1, Offset: seq, SourceTimestamp: src, IngestedAt: atUs}
			if err := f.Append(row, nil); err != nil {
				f.Discard()
				return nil, nil, err
			}
			seq++
		}
	}
	if err := f.Finish(); err != nil {
		f.Discard()
		return nil, nil, err
	}
	return f, results, nil
}
