package bronze

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/lakectl/lakectl/lake"
)

// StreamStatus summarises one Bronze table for `lakectl status`.
type StreamStatus struct {
	Stream        string           `json:"stream"`
	Version       int64            `json:"version"`
	LastCommit    time.Time        `json:"last_commit"`
	Files         int              `json:"files"`
	Rows          int64            `json:"rows"`
	Bytes         int64            `json:"bytes"`
	Ledger        []LedgerEntry    `json:"ledger"`
	HTTPNext      int64            `json:"http_next,omitempty"`
	Marks         []Mark           `json:"marks"`
	SealedThrough *time.Time       `json:"sealed_through,omitempty"`
	LastSealed    string           `json:"last_sealed_hour,omitempty"`
	Partitions    map[string]int64 `json:"rows_by_ingest_date,omitempty"`
}

// LedgerEntry is one Kafka partition's next offset.
type LedgerEntry struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Next      int64  `json:"next"`
}

// Status reads the Bronze table of stream.
func Status(ctx context.Context, store lake.Store, stream string, grace time.Duration) (StreamStatus, error) {
	snap, err := lake.NewTable(store, TableRoot(stream)).Latest(ctx)
	if err != nil {
		return StreamStatus{}, fmt.Errorf("status of bronze/%s: %w", stream, err)
	}
	st := StreamStatus{Stream: stream, Version: snap.Version, LastCommit: snap.Timestamp.UTC(), Partitions: map[string]int64{}}
	for _, a := range snap.Files() {
		st.Files++
		st.Bytes += a.Size
		if s, ok, _ := a.ParseStats(); ok {
			st.Rows += s.NumRecords
			if d := a.PartitionValues[ColIngestDate]; d != nil {
				st.Partitions[*d] += s.NumRecords
			}
		}
	}
	l := ReadLedger(snap)
	for tp, next := range l.Next {
		st.Ledger = append(st.Ledger, LedgerEntry{tp.Topic, tp.Partition, next})
	}
	sort.Slice(st.Ledger, func(i, j int) bool {
		a, b := st.Ledger[i], st.Ledger[j]
		return a.Topic < b.Topic || a.Topic == b.Topic && a.Partition < b.Partition
	})
	st.HTTPNext = l.HTTPNext
	st.Marks = Marks(snap)
	if t, ok := SealedThrough(snap, grace); ok {
		st.SealedThrough = &t
		// The last hour that ends at or before t.
		last := HourOf(t.Add(-time.Hour + time.Nanosecond))
		if !last.End().After(t) {
			st.LastSealed = last.String()
		}
	}
	return st, nil
}

// Streams lists the streams that have a Bronze table in store.
func Streams(ctx context.Context, store lake.Store) ([]string, error) {
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
