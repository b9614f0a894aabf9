package bronze

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// StreamsPrefix is where ingest registers each stream (an empty object named after
// it) before it creates the stream's table, so that finding the Bronze tables is
// one listing of a few keys, not of every data file. Stream names start with a
// letter or digit, so "_streams" never names a table.
const StreamsPrefix = "bronze/_streams/"

// StreamStatus summarises one Bronze table for `lakectl status`.
type StreamStatus struct {
	Stream     string    `json:"stream"`
	Version    int64     `json:"version"`
	LastCommit time.Time `json:"last_commit"`
	Files      int       `json:"files"`
	Rows       int64     `json:"rows"`
	Bytes      int64     `json:"bytes"`
	// Partitions holds each Kafka partition's ledger, mark and, when the broker
	// was asked, lag; HTTP ingest appears as topic "" and partition -1.
	Partitions    []PartitionStatus `json:"partitions"`
	SealedThrough *time.Time        `json:"sealed_through,omitempty"`
	LastSealed    string            `json:"last_sealed_hour,omitempty"`
	RowsByDate    map[string]int64  `json:"rows_by_ingest_date,omitempty"`
}

// PartitionStatus is one source of a Bronze table: its next offset (HTTP: sequence
// number), its sealing mark, and its lag behind the broker when known.
type PartitionStatus struct {
	Topic     string     `json:"topic,omitempty"`
	Partition int32      `json:"partition"`
	Next      int64      `json:"next"`
	Mark      *time.Time `json:"sealed_through,omitempty"`
	End       *int64     `json:"high_watermark,omitempty"`
	Lag       *int64     `json:"lag,omitempty"`
}

// StatusOptions configure Status.
type StatusOptions struct {
	// Grace decides sealing (see layout.IsSealed). Default layout.DefaultGrace.
	Grace time.Duration
	// Brokers, when set, are asked for the partitions' ends to report lag.
	Brokers []string
}

// Status reads the Bronze table of stream.
func Status(ctx context.Context, store lake.Store, stream string, opts StatusOptions) (StreamStatus, error) {
	if opts.Grace <= 0 {
		opts.Grace = layout.DefaultGrace
	}
	snap, err := lake.NewTable(store, layout.TableRoot(stream)).Latest(ctx)
	if err != nil {
		return StreamStatus{}, fmt.Errorf("status of bronze/%s: %w", stream, err)
	}
	st := StreamStatus{Stream: stream, Version: snap.Version, LastCommit: snap.Timestamp.UTC(), RowsByDate: map[string]int64{}}
	for _, a := range snap.Files() {
		st.Files++
		st.Bytes += a.Size
		if s, ok, _ := a.ParseStats(); ok {
			st.Rows += s.NumRecords
			if d := a.PartitionValues[layout.ColIngestDate]; d != nil {
				st.RowsByDate[*d] += s.NumRecords
			}
		}
	}
	l := ReadLedger(snap)
	markOf := func(appID string) *time.Time {
		if v, ok := l.Marks[appID]; ok {
			t := time.UnixMilli(v).UTC()
			return &t
		}
		return nil
	}
	for tp, next := range l.Next {
		st.Partitions = append(st.Partitions, PartitionStatus{Topic: tp.Topic, Partition: tp.Partition, Next: next,
			Mark: markOf(layout.KafkaWatermarkAppID(tp.Topic, tp.Partition))})
	}
	sort.Slice(st.Partitions, func(i, j int) bool {
		a, b := st.Partitions[i], st.Partitions[j]
		return a.Topic < b.Topic || a.Topic == b.Topic && a.Partition < b.Partition
	})
	if m := markOf(layout.HTTPWatermarkAppID(stream)); m != nil || l.HTTPNext > 0 {
		st.Partitions = append(st.Partitions, PartitionStatus{Partition: -1, Next: l.HTTPNext, Mark: m})
	}
	if len(opts.Brokers) > 0 && len(l.Next) > 0 {
		if err := addLag(ctx, opts.Brokers, st.Partitions); err != nil {
			return st, fmt.Errorf("status of bronze/%s: %w", stream, err)
		}
	}
	if t, ok := layout.SealedThrough(snap, opts.Grace); ok {
		st.SealedThrough = &t
		// The last hour that ends at or before t.
		last := layout.HourOf(t.Add(-time.Hour + time.Nanosecond))
		if !last.End().After(t) {
			st.LastSealed = last.String()
		}
	}
	return st, nil
}

// addLag asks the brokers for the end (high watermark, or last stable offset for
// read-committed) of each Kafka partition and fills in End and Lag.
func addLag(ctx context.Context, brokers []string, parts []PartitionStatus) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return fmt.Errorf("kafka client for %v: %w", brokers, err)
	}
	defer cl.Close()
	req := kmsg.NewPtrListOffsetsRequest()
	req.IsolationLevel = 1 // read committed: the end ingest can reach
	byTopic := map[string]int{}
	for _, p := range parts {
		if p.Partition < 0 {
			continue
		}
		i, ok := byTopic[p.Topic]
		if !ok {
			i = len(req.Topics)
			byTopic[p.Topic] = i
			t := kmsg.NewListOffsetsRequestTopic()
			t.Topic = p.Topic
			req.Topics = append(req.Topics, t)
		}
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition = p.Partition
		rp.Timestamp = -1 // the end
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("list end offsets: %w", err)
	}
	ends := map[TopicPartition]int64{}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return fmt.Errorf("end offset of %s/%d: %w", t.Topic, p.Partition, err)
			}
			ends[TopicPartition{t.Topic, p.Partition}] = p.Offset
		}
	}
	for i := range parts {
		if end, ok := ends[TopicPartition{parts[i].Topic, parts[i].Partition}]; ok {
			lag := max(end-parts[i].Next, 0)
			parts[i].End, parts[i].Lag = &end, &lag
		}
	}
	return nil
}

// Streams lists the streams that have a Bronze table in store, from the registry
// under StreamsPrefix. A lake written before the registry existed has none; then,
// and only then, Streams falls back to listing bronze/ and picking out the
// _delta_log directories, which reads every key.
func Streams(ctx context.Context, store lake.Store) ([]string, error) {
	objs, err := store.List(ctx, StreamsPrefix, "")
	if err != nil {
		return nil, fmt.Errorf("list bronze streams: %w", err)
	}
	var out []string
	for _, o := range objs {
		name := strings.TrimPrefix(o.Key, StreamsPrefix)
		if ValidStream(name) {
			out = append(out, name)
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	return scanStreams(ctx, store)
}

func scanStreams(ctx context.Context, store lake.Store) ([]string, error) {
	objs, err := store.List(ctx, "bronze/", "")
	if err != nil {
		return nil, fmt.Errorf("list bronze tables: %w", err)
	}
	seen := map[string]bool{}
	var out []string
	for _, o := range objs {
		rest := strings.TrimPrefix(o.Key, "bronze/")
		name, tail, ok := strings.Cut(rest, "/")
		if ok && strings.HasPrefix(tail, "_delta_log/") && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}
