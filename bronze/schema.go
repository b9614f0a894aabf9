package bronze

import (
	"strconv"
	"time"

	"github.com/lakectl/lakectl/lake"
)

// Row is one Bronze record as it is stored in Parquet. The partition columns
// ingest_date and ingest_hour live in the Delta log and the file path, not in the
// file, as the Delta protocol requires.
//
// Timestamps are microseconds since the Unix epoch in UTC, written as Parquet INT64
// TIMESTAMP(MICROS, isAdjustedToUTC=true); a zero source timestamp is written as null.
type Row struct {
	Payload         []byte   `parquet:"payload"`
	Key             []byte   `parquet:"key,optional"`
	Headers         []Header `parquet:"headers,list"`
	Source          string   `parquet:"source,dict"`
	Topic           string   `parquet:"topic,optional,dict"`
	Partition       int32    `parquet:"partition"`
	Offset          int64    `parquet:"offset"`
	SourceTimestamp int64    `parquet:"source_timestamp,optional,timestamp(microsecond:utc)"`
	IngestedAt      int64    `parquet:"ingested_at,timestamp(microsecond:utc)"`
}

// Header is one Kafka record header (or HTTP request header). Kafka allows repeated
// keys, so headers are a list of pairs rather than a map.
type Header struct {
	Key   string `parquet:"key"`
	Value []byte `parquet:"value,optional"`
}

// Sources written to the source column.
const (
	SourceKafka = "kafka"
	SourceHTTP  = "http"
)

// Partition columns of every Bronze table, in path order.
const (
	ColIngestDate = "ingest_date"
	ColIngestHour = "ingest_hour"
)

// schemaString is the Delta schema of a Bronze table. It must match Row plus the
// two partition columns.
const schemaString = `{"type":"struct","fields":[` +
	`{"name":"payload","type":"binary","nullable":false,"metadata":{}},` +
	`{"name":"key","type":"binary","nullable":true,"metadata":{}},` +
	`{"name":"headers","type":{"type":"array","elementType":{"type":"struct","fields":[` +
	`{"name":"key","type":"string","nullable":false,"metadata":{}},` +
	`{"name":"value","type":"binary","nullable":true,"metadata":{}}]},"containsNull":false},"nullable":false,"metadata":{}},` +
	`{"name":"source","type":"string","nullable":false,"metadata":{}},` +
	`{"name":"topic","type":"string","nullable":true,"metadata":{}},` +
	`{"name":"partition","type":"integer","nullable":false,"metadata":{}},` +
	`{"name":"offset","type":"long","nullable":false,"metadata":{}},` +
	`{"name":"source_timestamp","type":"timestamp","nullable":true,"metadata":{}},` +
	`{"name":"ingested_at","type":"timestamp","nullable":false,"metadata":{}},` +
	`{"name":"ingest_date","type":"date","nullable":false,"metadata":{}},` +
	`{"name":"ingest_hour","type":"integer","nullable":false,"metadata":{}}]}`

// TableRoot is the key prefix of the Bronze table of a stream.
func TableRoot(stream string) string { return "bronze/" + stream }

// NewMetadata returns the metadata action that creates the Bronze table of stream,
// with the txn retention that expires idle HTTP producer entries
// (ProducerTxnRetention) and nothing else.
func NewMetadata(id, stream string, now time.Time) lake.Metadata {
	created := now.UnixMilli()
	conf := map[string]string{}
	ProducerTxnRetention().Configure(conf)
	return lake.Metadata{
		ID:               id,
		Name:             stream,
		Description:      "Bronze: raw events of stream " + stream + ", exactly as received",
		Format:           lake.Format{Provider: "parquet", Options: map[string]string{}},
		SchemaString:     schemaString,
		PartitionColumns: []string{ColIngestDate, ColIngestHour},
		Configuration:    conf,
		CreatedTime:      &created,
	}
}

// Hour is an ingest hour: the UTC hour in which records were received.
type Hour time.Time

// HourOf truncates t to its UTC hour.
func HourOf(t time.Time) Hour { return Hour(t.UTC().Truncate(time.Hour)) }

// Time returns the start of the hour.
func (h Hour) Time() time.Time { return time.Time(h) }

// End returns the start of the next hour.
func (h Hour) End() time.Time { return time.Time(h).Add(time.Hour) }

// String formats the hour as 2006-01-02T15.
func (h Hour) String() string { return time.Time(h).Format("2006-01-02T15") }

// ParseHour parses 2006-01-02T15 (or an RFC 3339 time, truncated) as a UTC hour.
func ParseHour(s string) (Hour, error) {
	if t, err := time.ParseInLocation("2006-01-02T15", s, time.UTC); err == nil {
		return HourOf(t), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return Hour{}, err
	}
	return HourOf(t), nil
}

// partitionValues returns the Delta partition values of hour h.
func partitionValues(h Hour) map[string]*string {
	t := h.Time()
	date := t.Format("2006-01-02")
	hour := strconv.Itoa(t.Hour())
	return map[string]*string{ColIngestDate: &date, ColIngestHour: &hour}
}

// partitionCols are the partition columns of every Bronze table, in path order.
var partitionCols = []string{ColIngestDate, ColIngestHour}

// dataFilePath returns the path of a new data file of hour h, in the directory its
// partition values name: ingest_date=2026-11-20/ingest_hour=9/name.
func dataFilePath(h Hour, name string) string {
	return lake.DataFilePath(partitionCols, partitionValues(h), name)
}

// MarshalText writes the hour as String does, so JSON summaries name it readably.
func (h Hour) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText reads what MarshalText writes (or anything ParseHour accepts).
func (h *Hour) UnmarshalText(b []byte) error {
	v, err := ParseHour(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}
