package bronze

import (
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/parquetstats"
	"github.com/parquet-go/parquet-go"
)

// fileStats are the Delta statistics and offset range of one data file, gathered
// while rows are appended so the file never has to be read back.
type fileStats struct {
	Rows                 int64
	MinOffset, MaxOffset int64
	MinPart, MaxPart     int32
	MinIngest, MaxIngest int64 // µs
	MinSource, MaxSource int64 // µs; 0 when every source timestamp is null
	NullKeys             int64
	NullSource           int64
	NullTopics           int64
	Topic                string // the first topic; MaxTopic differs only in compacted files
	MaxTopic             string
	MinTopic             string
	Sources              [2]bool // kafka, http seen
}

func newFileStats() fileStats {
	return fileStats{
		MinOffset: math.MaxInt64, MaxOffset: math.MinInt64,
		MinPart: math.MaxInt32, MaxPart: math.MinInt32,
		MinIngest: math.MaxInt64, MaxIngest: math.MinInt64,
		MinSource: math.MaxInt64, MaxSource: math.MinInt64,
	}
}

// add counts one row from the Parquet values written for it, so that the stats
// say what the file holds, nulls included.
func (s *fileStats) add(row parquet.Row) {
	s.Rows++
	for _, v := range row {
		switch v.Column() {
		case colKey:
			if v.IsNull() {
				s.NullKeys++
			}
		case colSource:
			s.Sources[sourceIndex(v.ByteArray())] = true
		case colTopic:
			s.addTopic(v)
		case colPartition:
			s.MinPart = min(s.MinPart, v.Int32())
			s.MaxPart = max(s.MaxPart, v.Int32())
		case colOffset:
			s.MinOffset = min(s.MinOffset, v.Int64())
			s.MaxOffset = max(s.MaxOffset, v.Int64())
		case colSourceTimestamp:
			if v.IsNull() {
				s.NullSource++
			} else {
				s.MinSource = min(s.MinSource, v.Int64())
				s.MaxSource = max(s.MaxSource, v.Int64())
			}
		case colIngestedAt:
			s.MinIngest = min(s.MinIngest, v.Int64())
			s.MaxIngest = max(s.MaxIngest, v.Int64())
		}
	}
}

func (s *fileStats) addTopic(v parquet.Value) {
	if v.IsNull() {
		s.NullTopics++
		return
	}
	topic := v.ByteArray()
	switch {
	case s.Topic == "":
		s.Topic = string(topic)
		s.MinTopic, s.MaxTopic = s.Topic, s.Topic
	case string(topic) != s.Topic:
		// Only a compacted file mixes topics; ingest files hold one partition.
		s.MinTopic, s.MaxTopic = min(s.MinTopic, string(topic)), max(s.MaxTopic, string(topic))
	}
}

// sourceIndex is the index of a source column value in fileStats.Sources.
func sourceIndex(source []byte) int {
	if string(source) == SourceHTTP {
		return 1
	}
	return 0
}

// deltaJSON renders the statistics as the Delta add's stats string, with the bounds
// exactly as lake/parquetstats gives them for Silver's files: timestamps to the
// microsecond, strings over their non-null values, cut as the protocol allows.
func (s *fileStats) deltaJSON() string {
	st := lake.Stats{
		NumRecords: s.Rows,
		MinValues:  map[string]any{},
		MaxValues:  map[string]any{},
		NullCount: map[string]any{
			"payload": 0, "key": s.NullKeys, "source": 0, "topic": s.NullTopics,
			"partition": 0, "offset": 0, "source_timestamp": s.NullSource, "ingested_at": 0,
		},
	}
	if s.Rows > 0 {
		st.MinValues["offset"], st.MaxValues["offset"] = s.MinOffset, s.MaxOffset
		st.MinValues["partition"], st.MaxValues["partition"] = s.MinPart, s.MaxPart
		st.MinValues["ingested_at"], st.MaxValues["ingested_at"] = lake.StatsTimestamp(s.MinIngest), lake.StatsTimestamp(s.MaxIngest)
		if s.NullSource < s.Rows {
			st.MinValues["source_timestamp"], st.MaxValues["source_timestamp"] = lake.StatsTimestamp(s.MinSource), lake.StatsTimestamp(s.MaxSource)
		}
		if s.Topic != "" {
			st.MinValues["topic"] = parquetstats.StringMin(s.MinTopic)
			if hi, ok := parquetstats.StringMax(s.MaxTopic); ok {
				st.MaxValues["topic"] = hi
			}
		}
		// "http" sorts before "kafka".
		lo, hi := SourceHTTP, SourceKafka
		if !s.Sources[1] {
			lo = SourceKafka
		}
		if !s.Sources[0] {
			hi = SourceHTTP
		}
		st.MinValues["source"], st.MaxValues["source"] = lo, hi
	}
	b, _ := json.Marshal(st) // only maps of strings and numbers: cannot fail
	return string(b)
}

// Tags on every Bronze add: the Kafka topic and partition and the inclusive range
// of offsets the file holds, so verify and compaction know the ledger of each file
// without opening it.
const (
	TagSource      = "lakectl.source"
	TagTopic       = "lakectl.topic"
	TagPartition   = "lakectl.partition"
	TagFirstOffset = "lakectl.firstOffset"
	TagLastOffset  = "lakectl.lastOffset"
)

// OffsetRange reads an add's offset tags; ok is false for a file without them.
func OffsetRange(a *lake.Add) (topic string, partition int32, first, last int64, ok bool) {
	t := a.Tags
	if t == nil {
		return "", 0, 0, 0, false
	}
	p, err1 := strconv.ParseInt(t[TagPartition], 10, 32)
	f, err2 := strconv.ParseInt(t[TagFirstOffset], 10, 64)
	l, err3 := strconv.ParseInt(t[TagLastOffset], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return "", 0, 0, 0, false
	}
	return t[TagTopic], int32(p), f, l, true
}

func (f *dataFile) tags() map[string]string {
	s := &f.Stats
	src := SourceKafka
	if s.Sources[1] {
		src = SourceHTTP
	}
	return map[string]string{
		TagSource:      src,
		TagTopic:       s.Topic,
		TagPartition:   strconv.Itoa(int(s.MinPart)),
		TagFirstOffset: strconv.FormatInt(s.MinOffset, 10),
		TagLastOffset:  strconv.FormatInt(s.MaxOffset, 10),
	}
}

// add returns the Delta add action of the finished file.
func (f *dataFile) add(now time.Time) lake.Add {
	return lake.Add{
		Path:             lake.EncodePath(f.Path),
		PartitionValues:  layout.PartitionValues(f.Hour),
		Size:             f.Size,
		ModificationTime: now.UnixMilli(),
		DataChange:       true,
		Stats:            f.Stats.deltaJSON(),
		Tags:             f.tags(),
	}
}
