package bronze

import (
	"strings"
	"testing"
)

// The column indexes and definition levels appendRow writes are those of the
// schema the writer is given.
func TestRowColumnsMatchSchema(t *testing.T) {
	tests := []struct {
		path        string
		col         int
		maxDef, rep int
	}{
		{"payload", colPayload, 0, 0},
		{"key", colKey, defPresent, 0},
		{"headers.list.element.key", colHeaderKey, defPresent, 1},
		{"headers.list.element.value", colHeaderValue, defHeaderValue, 1},
		{"source", colSource, 0, 0},
		{"topic", colTopic, defPresent, 0},
		{"partition", colPartition, 0, 0},
		{"offset", colOffset, 0, 0},
		{"source_timestamp", colSourceTimestamp, defPresent, 0},
		{"ingested_at", colIngestedAt, 0, 0},
	}
	if got := len(rowSchema.Columns()); got != len(tests) {
		t.Fatalf("schema has %d columns, want %d", got, len(tests))
	}
	for _, tc := range tests {
		leaf, ok := rowSchema.Lookup(strings.Split(tc.path, ".")...)
		if !ok {
			t.Errorf("%s: not in the schema", tc.path)
			continue
		}
		if leaf.ColumnIndex != tc.col || leaf.MaxDefinitionLevel != tc.maxDef || leaf.MaxRepetitionLevel != tc.rep {
			t.Errorf("%s: column %d, max definition level %d, max repetition level %d; want %d, %d, %d",
				tc.path, leaf.ColumnIndex, leaf.MaxDefinitionLevel, leaf.MaxRepetitionLevel, tc.col, tc.maxDef, tc.rep)
		}
	}
	if defHeaderNull != defHeaderValue-1 || defNoHeaders != 0 {
		t.Errorf("header levels: null value %d, no headers %d", defHeaderNull, defNoHeaders)
	}
}
