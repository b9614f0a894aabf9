package bronze

import (
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
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
		PartitionColumns: []string{layout.ColIngestDate, layout.ColIngestHour},
		Configuration:    conf,
		CreatedTime:      &created,
	}
}
