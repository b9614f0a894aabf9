package lake_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
)

// specCheckpointFields are the fields of each action column of a classic checkpoint,
// from PROTOCOL.md's "Checkpoint Schema" and the actions' own field lists: what a
// checkpoint may hold. A remove in a checkpoint is a tombstone for vacuum, "and
// do[es] not contain the stats and tags fields".
var specCheckpointFields = map[string][]string{
	"txn":      {"appId", "version", "lastUpdated"},
	"add":      {"path", "partitionValues", "size", "modificationTime", "dataChange", "stats", "tags", "deletionVector", "baseRowId", "defaultRowCommitVersion", "clusteringProvider", "partitionValues_parsed", "stats_parsed"},
	"remove":   {"path", "deletionTimestamp", "dataChange", "extendedFileMetadata", "partitionValues", "size"},
	"metaData": {"id", "name", "description", "format", "schemaString", "partitionColumns", "createdTime", "configuration"},
	"protocol": {"minReaderVersion", "minWriterVersion", "readerFeatures", "writerFeatures"},
}

// The checkpoint lakectl writes has only the columns the protocol's checkpoint
// schema has: no tags on removes, whose adds had them.
func TestCheckpointSchemaIsTheSpecs(t *testing.T) {
	store := mem.New()
	tbl := lake.NewTable(store, "t")
	writeHistory(t, tbl)
	// The removes of the JSON commits after the checkpoint keep their adds' tags.
	if !slices.ContainsFunc(latest(t, tbl).Tombstones(), func(r lake.Remove) bool { return len(r.Tags) > 0 }) {
		t.Fatalf("the history's removes carry no tags; the test needs some")
	}
	f := openCheckpoint(t, store, 20)
	for _, col := range f.Root().Columns() {
		allowed, ok := specCheckpointFields[col.Name()]
		if !ok {
			t.Errorf("checkpoint column %s is not in the protocol's checkpoint schema", col.Name())
			continue
		}
		var got []string
		for _, c := range col.Columns() {
			got = append(got, c.Name())
			if !slices.Contains(allowed, c.Name()) {
				t.Errorf("checkpoint field %s.%s is not in the protocol's checkpoint schema (%v)", col.Name(), c.Name(), allowed)
			}
		}
		sort.Strings(got)
		t.Logf("%s: %v", col.Name(), got)
	}
	if _, ok := f.Schema().Lookup("remove", "tags", "key_value", "key"); ok {
		t.Error("checkpoint removes have tags")
	}
	// The tombstones read back the same, less their tags.
	s, err := lake.NewTable(store, "t").At(t.Context(), 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range s.Tombstones() {
		if r.Tags != nil || r.Path == "" || r.DeletionTimestamp == 0 || r.Size == 0 {
			t.Errorf("tombstone read from the checkpoint: %+v, want path, time and size, no tags", r)
		}
	}
}

// A reader-1/writer-2 table's checkpoint may have readerFeatures and writerFeatures
// columns, but their values must be null.
func TestCheckpointFeaturesNullBelowTableFeatures(t *testing.T) {
	store := mem.New()
	writeHistory(t, lake.NewTable(store, "t"))
	f := openCheckpoint(t, store, 20)
	for _, field := range []string{"readerFeatures", "writerFeatures"} {
		leaf, ok := f.Schema().Lookup("protocol", field, "list", "element")
		if !ok {
			continue // leaving the column out is allowed too
		}
		for i, v := range columnValues(t, f, leaf.ColumnIndex) {
			// Level 1: protocol present, the list null. A higher level is an empty or
			// non-empty list.
			if v.DefinitionLevel() > 1 {
				t.Errorf("row %d: protocol.%s is not null (definition level %d)", i, field, v.DefinitionLevel())
			}
		}
	}
}

func openCheckpoint(t *testing.T, store lake.Store, v int64) *parquet.File {
	t.Helper()
	data, err := lake.ReadAll(t.Context(), store, fmt.Sprintf("t/_delta_log/%020d.checkpoint.parquet", v))
	if err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// columnValues reads every value of leaf column i, over all row groups.
func columnValues(t *testing.T, f *parquet.File, i int) []parquet.Value {
	t.Helper()
	var out []parquet.Value
	for _, rg := range f.RowGroups() {
		pages := rg.ColumnChunks()[i].Pages()
		for {
			p, err := pages.ReadPage()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			vals := make([]parquet.Value, p.NumValues())
			n, err := p.Values().ReadValues(vals)
			if err != nil && !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			out = append(out, vals[:n]...)
		}
		pages.Close()
	}
	return out
}
