package bronze

import (
	"unsafe"

	"github.com/parquet-go/parquet-go"
)

// rowSchema is the Parquet schema of every Bronze data file.
var rowSchema = parquet.SchemaOf(Row{})

// The leaf columns of rowSchema, in file order, and the definition levels of their
// optional values. TestRowColumnsMatchSchema holds them to the schema.
const (
	colPayload = iota
	colKey
	colHeaderKey   // headers.list.element.key
	colHeaderValue // headers.list.element.value
	colSource
	colTopic
	colPartition
	colOffset
	colSourceTimestamp
	colIngestedAt

	defPresent     = 1 // key, topic, source_timestamp; a header key
	defHeaderValue = 2 // a header value that is not null
	defHeaderNull  = 1 // a header whose value is null
	defNoHeaders   = 0 // the empty list of headers
)

// appendRow appends the Parquet values of r to row, column by column, each with the
// definition and repetition levels that say what is null. Bronze sets the levels
// itself rather than leave nullness to parquet-go's reflection: the batched writer
// of parquet-go v0.32 writes a null that follows a run of values in an optional
// column as a present zero value (keys null, "key", null stored the third as an
// empty key), and its rules for zero values have changed between releases.
//
// What is null: a nil Key or header Value (an empty, non-nil one is an empty byte
// string); an empty Topic; a zero SourceTimestamp. Headers are never null: none is
// the empty list, as Kafka's protocol has no null header list.
//
// The values alias r's byte slices and strings until the writer copies them.
func appendRow(row parquet.Row, r *Row) parquet.Row {
	row = append(row,
		parquet.ByteArrayValue(r.Payload).Level(0, 0, colPayload),
		optionalBytes(r.Key, colKey))
	if len(r.Headers) == 0 {
		row = append(row,
			parquet.NullValue().Level(0, defNoHeaders, colHeaderKey),
			parquet.NullValue().Level(0, defNoHeaders, colHeaderValue))
	} else {
		for i := range r.Headers {
			row = append(row, parquet.ByteArrayValue(stringBytes(r.Headers[i].Key)).Level(min(i, 1), defPresent, colHeaderKey))
		}
		for i, h := range r.Headers {
			v := parquet.NullValue().Level(min(i, 1), defHeaderNull, colHeaderValue)
			if h.Value != nil {
				v = parquet.ByteArrayValue(h.Value).Level(min(i, 1), defHeaderValue, colHeaderValue)
			}
			row = append(row, v)
		}
	}
	topic := parquet.NullValue().Level(0, 0, colTopic)
	if r.Topic != "" {
		topic = parquet.ByteArrayValue(stringBytes(r.Topic)).Level(0, defPresent, colTopic)
	}
	sourceTs := parquet.NullValue().Level(0, 0, colSourceTimestamp)
	if r.SourceTimestamp != 0 {
		sourceTs = parquet.Int64Value(r.SourceTimestamp).Level(0, defPresent, colSourceTimestamp)
	}
	return append(row,
		parquet.ByteArrayValue(stringBytes(r.Source)).Level(0, 0, colSource),
		topic,
		parquet.Int32Value(r.Partition).Level(0, 0, colPartition),
		parquet.Int64Value(r.Offset).Level(0, 0, colOffset),
		sourceTs,
		parquet.Int64Value(r.IngestedAt).Level(0, 0, colIngestedAt))
}

// optionalBytes is the value of an optional byte-array column: null for a nil b.
func optionalBytes(b []byte, col int) parquet.Value {
	if b == nil {
		return parquet.NullValue().Level(0, 0, col)
	}
	return parquet.ByteArrayValue(b).Level(0, defPresent, col)
}

// stringBytes views s as bytes without a copy; the writer only reads them.
func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
