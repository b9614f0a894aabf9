package bronze

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/plugin/kprom"
	"github.com/twmb/franz-go/plugin/kslog"
)

// kafkaIngest consumes the configured topics as one member of the consumer group
// and appends every record to the Bronze table of its stream, exactly once.
//
// One goroutine polls, appends and flushes; franz-go blocks rebalances while it
// works (BlockRebalanceOnPoll), so the rebalance callbacks never run in the middle
// of a batch. Positions come from the ledger in the lake, never from the group's
// committed offsets, which are only written for lag tooling.
type kafkaIngest struct {
	cfg     Config
	log     *slog.Logger
	metrics *Metrics
	cl      *kgo.Client
	pool    writerMaker
	tables  map[string]*tableWriter // by stream
	// failed carries a permanent error found outside the poll loop (assigning or
	// revoking partitions, or in the group's management): the loop stops on it.
	failed chan error

	mu     sync.Mutex
	parts  map[TopicPartition]*partState
	hour   layout.Hour
	opened time.Time // when the oldest open file was opened; zero when none is
	big    int64     // bytes of the largest open file
	sealAt time.Time // when idle partitions' marks are next committed
	hdrs   []Header  // scratch for converting one record's headers
	// reseeked holds the partitions that reseek moved back during this poll's
	// hour flush: the poll's records of them were fetched from the old position.
	reseeked map[TopicPartition]bool
}

// partState is this member's view of one assigned partition.
type partState struct {
	tp     TopicPartition
	stream string
	expect position // the ledger position the next commit must find
	next   int64    // offset after the last appended record; -1 before the first
	// floor (µs) is the earliest ingested_at the partition's next rows may carry:
	// just after its mark as this member last knew it (see stampFloor).
	floor int64
	file  *dataFile
	lag   prometheus.Gauge
	recs  prometheus.Counter
	bytes prometheus.Counter
}

func newKafkaIngest(cfg Config, m *Metrics) (*kafkaIngest, error) {
	k := &kafkaIngest{
		cfg:     cfg,
		log:     cfg.Logger.With("component", "bronze", "source", "kafka"),
		metrics: m,
		pool:    writerMaker{opts: cfg.Files},
		tables:  map[string]*tableWriter{},
		parts:   map[TopicPartition]*partState{},
		failed:  make(chan error, 1),
	}
	var topics []string
	for topic, stream := range cfg.Topics {
		topics = append(topics, topic)
		if k.tables[stream] == nil {
			k.tables[stream] = newTableWriter(cfg.Store, stream, k.log, m)
		}
	}
	sort.Strings(topics)
	reset := kgo.NewOffset().AtStart()
	if cfg.StartAtEnd {
		reset = kgo.NewOffset().AtEnd()
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(reset),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.AdjustFetchOffsetsFn(k.seekToLedger),
		kgo.OnPartitionsRevoked(k.onRevoked),
		kgo.OnPartitionsLost(k.onLost),
		kgo.FetchMaxBytes(cfg.FetchMaxBytes),
		kgo.FetchMaxPartitionBytes(min(cfg.FetchMaxBytes, 2<<20)),
		kgo.WithLogger(kslog.New(k.log.With("lib", "franz-go"))),
	}
	if cfg.Registerer != nil {
		// The client's own metrics (connections, request errors, fetched records
		// and bytes per topic, buffered records) as lakectl_kafka_*.
		opts = append(opts, kgo.WithHooks(kprom.NewMetrics("lakectl", kprom.Subsystem("kafka"), kprom.Registerer(cfg.Registerer),
			kprom.FetchAndProduceDetail(kprom.ByNode, kprom.ByTopic, kprom.Records, kprom.UncompressedBytes, kprom.CompressedBytes))))
	}
	if cfg.InstanceID != "" {
		opts = append(opts, kgo.InstanceID(cfg.InstanceID))
	}
	if cfg.SessionTimeout > 0 {
		opts = append(opts, kgo.SessionTimeout(cfg.SessionTimeout), kgo.HeartbeatInterval(cfg.SessionTimeout/4))
	}
	cl, err := kgo.NewClient(append(opts, cfg.KafkaOptions...)...)
	if err != nil {
		return nil, fmt.Errorf("kafka client for %v: %w", cfg.Brokers, err)
	}
	k.cl = cl
	return k, nil
}

// run polls until ctx ends or a permanent error stops it, then flushes what it
// holds, commits, and leaves the group, all on hard, which ends at the service's
// shutdown deadline.
func (k *kafkaIngest) run(ctx, hard context.Context) error {
	k.hour = layout.HourOf(k.cfg.Now())
	k.sealAt = nextSealPoint(k.cfg.Now(), k.cfg.Graces.All()...)
	var err error
	for ctx.Err() == nil && err == nil {
		pctx, cancel := context.WithTimeout(ctx, k.untilDue(k.cfg.Now()))
		fetches := k.cl.PollRecords(pctx, k.cfg.MaxPollRecords)
		cancel()
		if fetches.IsClientClosed() {
			return nil
		}
		fetches.EachError(func(topic string, p int32, ferr error) {
			switch {
			case errors.Is(ferr, context.DeadlineExceeded) || errors.Is(ferr, context.Canceled):
			case kafkaPermanent(ferr):
				k.fail(k.permanentError(topic, p, ferr))
			default:
				k.log.Warn("fetch error", "topic", topic, "partition", p, "err", ferr)
			}
		})
		err = k.handle(ctx, fetches)
		k.cl.AllowRebalance()
		if err == nil {
			select {
			case err = <-k.failed:
			default:
			}
		}
	}
	// Shut down cleanly: what was read is committed, on hard because ctx may
	// already be cancelled.
	k.mu.Lock()
	consumed := k.positions(func(st *partState) int64 { return st.next })
	ferr := k.flush(hard, "shutdown")
	if ferr == nil {
		// Operators (and the end-to-end tests) compare these with the ledger: after
		// a clean stop the two agree for every partition this member held.
		k.log.Info("kafka ingest stopped", "consumed", consumed,
			"committed", k.positions(func(st *partState) int64 {
				if !st.expect.Known {
					return -1
				}
				return st.expect.Offset
			}))
	}
	k.mu.Unlock()
	k.cl.CloseAllowingRebalance()
	if k.cfg.InstanceID != "" && !errors.Is(err, kerr.FencedInstanceID) {
		// After a fence the id belongs to the member that fenced this one.
		k.leave(hard)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ferr
}

// leave takes this static member out of the group, which Close does not do: the
// group keeps a static member's partitions for it until its session times out
// (KIP-345), so that a process that crashed takes them back at once when it
// restarts. A process that stops cleanly may not come back (a replica scaled
// away), so it leaves, and the other members take its partitions over at once.
// Only a crash leaves them waiting, for the restart or for the session timeout.
func (k *kafkaIngest) leave(ctx context.Context) {
	opts := []kgo.Opt{kgo.SeedBrokers(k.cfg.Brokers...), kgo.WithLogger(kslog.New(k.log.With("lib", "franz-go")))}
	for _, o := range k.cfg.KafkaOptions {
		switch o.(type) {
		case kgo.ConsumerOpt, kgo.GroupOpt, kgo.ProducerOpt:
		default:
			opts = append(opts, o) // how to connect: TLS, SASL, dialer
		}
	}
	err := func() error {
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			return err
		}
		defer cl.Close()
		req := kmsg.NewPtrLeaveGroupRequest()
		req.Group = k.cfg.Group
		m := kmsg.NewLeaveGroupRequestMember()
		m.InstanceID = &k.cfg.InstanceID
		req.Members = append(req.Members, m)
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return err
		}
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			return err
		}
		for _, m := range resp.Members {
			if err := kerr.ErrorForCode(m.ErrorCode); err != nil && !errors.Is(err, kerr.UnknownMemberID) {
				return err
			}
		}
		return nil
	}()
	if err != nil {
		k.log.Warn("leave the group; the other members get this member's partitions once its session times out",
			"group", k.cfg.Group, "instance_id", k.cfg.InstanceID, "err", err)
	}
}

// fail stops the poll loop with a permanent error; later ones are dropped.
func (k *kafkaIngest) fail(err error) {
	select {
	case k.failed <- err:
	default:
	}
}

// permanentError says where a permanent broker error struck, and what to do about
// a fence.
func (k *kafkaIngest) permanentError(topic string, p int32, err error) error {
	where := "consumer group " + k.cfg.Group
	if topic != "" {
		where = fmt.Sprintf("consume %s[%d] in group %s", topic, p, k.cfg.Group)
	}
	if errors.Is(err, kerr.FencedInstanceID) {
		return fmt.Errorf("%s: another member joined with this one's instance id %q, and each replica needs its own: %w",
			where, k.cfg.InstanceID, err)
	}
	return fmt.Errorf("%s: %w", where, err)
}

// kafkaPermanent reports the broker's answers that no retry changes: this member
// was fenced by another one with its instance id, or it may not use the group or
// topic. franz-go retries them forever; ingest stops with the error instead.
func kafkaPermanent(err error) bool {
	for _, e := range []error{kerr.FencedInstanceID, kerr.GroupAuthorizationFailed, kerr.TopicAuthorizationFailed,
		kerr.ClusterAuthorizationFailed, kerr.SaslAuthenticationFailed} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// positions returns pos(st) of every assigned partition that has a position, by
// "topic/partition". The caller holds k.mu.
func (k *kafkaIngest) positions(pos func(*partState) int64) map[string]int64 {
	out := map[string]int64{}
	for tp, st := range k.parts {
		if st.next >= 0 {
			out[tp.String()] = pos(st)
		}
	}
	return out
}

// untilDue is how long a poll may wait before a flush or a mark is due.
func (k *kafkaIngest) untilDue(now time.Time) time.Duration {
	k.mu.Lock()
	defer k.mu.Unlock()
	due := k.sealAt
	if end := k.hour.End(); end.Before(due) {
		due = end
	}
	if !k.opened.IsZero() {
		if t := k.opened.Add(k.cfg.FlushInterval); t.Before(due) {
			due = t
		}
	}
	return min(max(due.Sub(now), 10*time.Millisecond), time.Second)
}

// handle appends one poll's records and flushes when a flush is due.
func (k *kafkaIngest) handle(ctx context.Context, fetches kgo.Fetches) error {
	now := k.cfg.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	clear(k.reseeked)
	if h := layout.HourOf(now); h != k.hour {
		// Every hour boundary flushes, so that no file spans two ingest hours
		// and idle partitions' marks pass the hour that just ended.
		if err := k.flush(ctx, "hour"); err != nil {
			return err
		}
		k.hour = h
		// Stamp this poll's records after the mark the flush just committed, or
		// their own commit would be refused as late.
		if later := k.cfg.Now(); layout.HourOf(later) == h {
			now = later
		}
	}
	nowUs := now.UnixMicro()
	var err error
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if err != nil {
			return
		}
		st := k.parts[TopicPartition{p.Topic, p.Partition}]
		if st == nil {
			if len(p.Records) > 0 {
				k.log.Warn("records for a partition with no ledger position; ignoring them",
					"topic", p.Topic, "partition", p.Partition)
			}
			return
		}
		if k.reseeked[st.tp] {
			// Appending them would skip the records between the re-seek target and
			// them; the client re-fetches from the target.
			return
		}
		err = k.appendRecords(st, p.Records, now, nowUs)
		if st.next >= 0 {
			st.lag.Set(float64(max(p.HighWatermark-st.next, 0)))
		}
	})
	if err != nil {
		return err
	}
	switch {
	case k.big >= k.cfg.FlushSize:
		return k.flush(ctx, "size")
	case !k.opened.IsZero() && now.Sub(k.opened) >= k.cfg.FlushInterval:
		return k.flush(ctx, "age")
	case !now.Before(k.sealAt):
		return k.flush(ctx, "seal")
	}
	return nil
}

func (k *kafkaIngest) appendRecords(st *partState, recs []*kgo.Record, now time.Time, nowUs int64) error {
	var n, bytes int
	// Never before the partition's mark: a member whose clock is behind the
	// previous owner's would otherwise see every commit refused until its clock
	// caught up. The file's hour follows the stamp, so rows and path agree.
	stamp := max(nowUs, st.floor)
	for _, r := range recs {
		if st.next >= 0 && r.Offset < st.next {
			continue // fetched before a seek backwards or a redelivery: already handled
		}
		if st.file == nil {
			f, err := newDataFile(&k.pool, layout.HourOf(time.UnixMicro(stamp)))
			if err != nil {
				return err
			}
			// Share the row-group budget among the assigned partitions.
			f.rgLimit = min(k.cfg.Files.RowGroupBytes, max(k.cfg.BufferBytes/int64(len(k.parts)), 1<<20))
			st.file = f
			if k.opened.IsZero() {
				k.opened = now
			}
		}
		hdrs := k.hdrs[:0]
		for _, h := range r.Headers {
			hdrs = append(hdrs, Header{Key: h.Key, Value: h.Value})
		}
		k.hdrs = hdrs
		var srcTs int64 // zero is stored as null
		if !r.Timestamp.IsZero() && r.Timestamp.UnixMilli() >= 0 {
			// Kafka's "no timestamp" is -1 ms, which franz-go decodes as a time.
			srcTs = r.Timestamp.UnixMicro()
		}
		row := Row{
			Payload: r.Value, Key: r.Key, Source: SourceKafka, Topic: r.Topic,
			Partition: r.Partition, Offset: r.Offset, SourceTimestamp: srcTs, IngestedAt: stamp,
		}
		if row.Payload == nil {
			row.Payload = []byte{} // a tombstone: payload is not nullable
		}
		if err := st.file.Append(row, hdrs); err != nil {
			return err
		}
		st.next = r.Offset + 1
		n++
		bytes += len(r.Value) + len(r.Key)
	}
	if st.file != nil {
		k.big = max(k.big, st.file.Bytes)
	}
	st.recs.Add(float64(n))
	st.bytes.Add(float64(bytes))
	return nil
}

// flush finishes every open file and commits them, one Delta commit per stream,
// together with the ledger positions and sealing marks of all assigned partitions.
// Idle streams are only committed when reason asks for marks ("hour", "seal").
// The caller holds k.mu.
func (k *kafkaIngest) flush(ctx context.Context, reason string) error {
	markAt := k.cfg.Now()
	byStream := map[string][]partFlush{}
	withFiles := map[string]bool{}
	for _, st := range k.parts {
		pf := partFlush{TP: st.tp, Expect: st.expect}
		if st.file != nil {
			if err := st.file.Finish(); err != nil {
				return err
			}
			pf.Files = []*dataFile{st.file}
			pf.Next = st.next
			pf.MinIngest = st.file.Stats.MinIngest
			withFiles[st.stream] = true
		}
		byStream[st.stream] = append(byStream[st.stream], pf)
	}
	marks := reason == "hour" || reason == "seal" || reason == "shutdown"
	commitOffsets := map[string]map[int32]kgo.EpochOffset{}
	var lost []TopicPartition
	lostFrom := map[TopicPartition]int64{}
	for stream, parts := range byStream {
		if !withFiles[stream] && !marks {
			continue
		}
		sort.Slice(parts, func(i, j int) bool { return parts[i].TP.String() < parts[j].TP.String() })
		res, err := k.tables[stream].commitKafka(ctx, parts, markAt)
		if err != nil {
			return fmt.Errorf("flush (%s): %w", reason, err)
		}
		for _, tp := range res.Committed {
			st := k.parts[tp]
			// The mark is now at least markAt: later rows are stamped after it.
			st.floor = max(st.floor, markAt.Truncate(time.Millisecond).Add(time.Millisecond).UnixMicro())
			k.metrics.SealedMark.WithLabelValues(stream, layout.KafkaWatermarkAppID(tp.Topic, tp.Partition)).Set(float64(markAt.Unix()))
			if st.file == nil {
				continue
			}
			st.file.Discard()
			st.file = nil
			st.expect = position{Offset: st.next, Known: true}
			if commitOffsets[tp.Topic] == nil {
				commitOffsets[tp.Topic] = map[int32]kgo.EpochOffset{}
			}
			commitOffsets[tp.Topic][tp.Partition] = kgo.EpochOffset{Epoch: -1, Offset: st.next}
		}
		for _, tp := range res.Lost {
			st := k.parts[tp]
			k.metrics.Lost.WithLabelValues(stream).Inc()
			if st.file != nil {
				lostFrom[tp] = st.file.Stats.MinOffset
				st.file.Discard()
				st.file = nil
			}
			lost = append(lost, tp)
		}
	}
	k.opened = time.Time{}
	k.big = 0
	if marks {
		k.sealAt = nextSealPoint(markAt, k.cfg.Graces.All()...)
	}
	if len(commitOffsets) > 0 {
		// For lag tooling only: positions come from the ledger.
		done := func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) {
			if err != nil && !errors.Is(err, context.Canceled) {
				k.log.Debug("commit group offsets", "err", err)
			}
		}
		if reason == "rebalance" || reason == "shutdown" {
			// Before partitions move, so the group's offsets do not go backwards.
			k.cl.CommitOffsetsSync(ctx, commitOffsets, done)
		} else {
			k.cl.CommitOffsets(ctx, commitOffsets, done)
		}
	}
	if len(lost) > 0 {
		return k.reseek(ctx, lost, lostFrom)
	}
	return nil
}

// reseek moves lost partitions back to what the ledger now says, so that if this
// member still owns them it re-reads, and re-stamps, the records it dropped.
func (k *kafkaIngest) reseek(ctx context.Context, tps []TopicPartition, from map[TopicPartition]int64) error {
	set := map[string]map[int32]kgo.EpochOffset{}
	for _, tp := range tps {
		st := k.parts[tp]
		snap, err := k.tables[st.stream].latest(ctx)
		if err != nil {
			return fmt.Errorf("re-read ledger of %s: %w", tp, err)
		}
		pos := ledgerPosition(snap, tp)
		st.expect = pos
		st.floor = max(st.floor, stampFloor(snap, tp))
		target, ok := pos.Offset, pos.Known
		if !ok {
			target, ok = from[tp]
		}
		if !ok {
			continue // nothing was dropped and nothing is known: keep reading
		}
		st.next = target
		if k.reseeked == nil {
			k.reseeked = map[TopicPartition]bool{}
		}
		k.reseeked[tp] = true
		if set[tp.Topic] == nil {
			set[tp.Topic] = map[int32]kgo.EpochOffset{}
		}
		set[tp.Topic][tp.Partition] = kgo.EpochOffset{Epoch: -1, Offset: target}
		k.log.Info("re-seeking partition to the ledger", "partition", tp.String(), "offset", target)
	}
	k.cl.SetOffsets(set)
	return nil
}

// seekToLedger is franz-go's AdjustFetchOffsetsFn: for every newly assigned
// partition it replaces the group's committed offset with the ledger's.
func (k *kafkaIngest) seekToLedger(ctx context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	snaps := map[string]*ledgerView{}
	for topic, parts := range offsets {
		stream := k.cfg.Topics[topic]
		view := snaps[stream]
		if view == nil {
			snap, err := k.tables[stream].latest(ctx)
			if err != nil {
				err = fmt.Errorf("read ledger of bronze/%s: %w", stream, err)
				if ctx.Err() == nil {
					k.fail(err) // latest retries what a retry can fix
				}
				return nil, err
			}
			view = &ledgerView{snap: snap}
			snaps[stream] = view
		}
		for p := range parts {
			tp := TopicPartition{topic, p}
			pos := ledgerPosition(view.snap, tp)
			if old := k.parts[tp]; old != nil && old.file != nil {
				old.file.Discard()
			}
			pl := strconv.Itoa(int(p))
			st := &partState{
				tp: tp, stream: stream, expect: pos, next: -1, floor: stampFloor(view.snap, tp),
				lag:   k.metrics.Lag.WithLabelValues(topic, pl),
				recs:  k.metrics.Records.WithLabelValues(stream, SourceKafka),
				bytes: k.metrics.Bytes.WithLabelValues(stream, SourceKafka),
			}
			if pos.Known {
				st.next = pos.Offset
				parts[p] = kgo.NewOffset().At(pos.Offset)
			} else if k.cfg.StartAtEnd {
				parts[p] = kgo.NewOffset().AtEnd()
			} else {
				parts[p] = kgo.NewOffset().AtStart()
			}
			k.parts[tp] = st
			k.log.Info("assigned", "partition", tp.String(), "ledger", pos.String())
		}
	}
	return offsets, nil
}

type ledgerView struct{ snap *lake.Snapshot }

// onRevoked commits what this member holds before its partitions move, so the
// next owner starts exactly where this one stopped.
func (k *kafkaIngest) onRevoked(ctx context.Context, _ *kgo.Client, revoked map[string][]int32) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.flush(ctx, "rebalance"); err != nil {
		k.log.Error("flush before rebalance; the next owner re-reads from the ledger", "err", err)
		if ctx.Err() == nil {
			k.fail(err)
		}
	}
	k.drop(revoked)
}

// onLost drops what this member holds for partitions it no longer owns: another
// member may already be writing them, and the ledger check would refuse a commit.
func (k *kafkaIngest) onLost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.log.Warn("partitions lost; dropping their uncommitted records", "partitions", lost)
	k.drop(lost)
}

func (k *kafkaIngest) drop(parts map[string][]int32) {
	for topic, ps := range parts {
		for _, p := range ps {
			tp := TopicPartition{topic, p}
			if st := k.parts[tp]; st != nil && st.file != nil {
				st.file.Discard()
			}
			delete(k.parts, tp)
			k.metrics.Lag.DeleteLabelValues(topic, strconv.Itoa(int(p)))
		}
	}
	if len(k.parts) == 0 || !k.anyOpen() {
		k.opened = time.Time{}
		k.big = 0
	}
}

func (k *kafkaIngest) anyOpen() bool {
	for _, st := range k.parts {
		if st.file != nil {
			return true
		}
	}
	return false
}

// nextSealPoint is the next time idle partitions' marks are committed: at each
// hour boundary, and once more when each grace after it has passed (a Kafka
// consumer serves streams of different graces), so that an idle table seals hour H
// soon after H+1+its grace rather than an hour later.
func nextSealPoint(now time.Time, graces ...time.Duration) time.Time {
	h := layout.HourOf(now).Time()
	next := h.Add(time.Hour)
	for _, g := range graces {
		if p := h.Add(g + time.Second); p.After(now) && p.Before(next) {
			next = p
		}
	}
	return next
}

// stampFloor is the earliest ingested_at (µs) that a commit of tp's rows can pass
// buildKafkaTx's sealing checks with at snap: 1 ms after the partition's mark, or,
// for a partition without a mark of its own, the start of the hour of the table's
// lowest mark (an earlier hour may already be reported sealed).
func stampFloor(snap *lake.Snapshot, tp TopicPartition) int64 {
	wmID := layout.KafkaWatermarkAppID(tp.Topic, tp.Partition)
	if hasTxn(snap, wmID) {
		return time.UnixMilli(mark(snap, wmID) + 1).UnixMicro()
	}
	lowest, found := int64(0), false
	for _, v := range ReadLedger(snap).Marks {
		if !found || v < lowest {
			lowest, found = v, true
		}
	}
	if !found {
		return 0
	}
	return layout.HourOf(time.UnixMilli(lowest)).Time().UnixMicro()
}
