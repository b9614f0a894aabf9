package catalog

import (
	"context"
	"errors"
	"testing"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
)

// TestSnapshotSelection: At picks the version every statement sees, and a lake alone
// knows its tables by layer and name.
func TestSnapshotSelection(t *testing.T) {
	ctx := context.Background()
	store := mem.New()
	table := lake.NewTable(store, "silver/events")
	var read *lake.Snapshot
	for v := range 2 {
		tx := table.Begin(read)
		if v == 0 {
			tx.SetMetadata(lake.Metadata{SchemaString: `{"type":"struct","fields":[{"name":"n","type":"long","nullable":true,"metadata":{}}]}`})
		}
		tx.Add(lake.Add{Path: "f" + string(rune('0'+v)) + ".parquet", Size: 1, DataChange: true})
		if _, err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		var err error
		if read, err = table.Latest(ctx); err != nil {
			t.Fatal(err)
		}
	}
	events := engine.TableName{Schema: "silver", Name: "events"}
	v0, v5 := int64(0), int64(5)
	for _, tt := range []struct {
		at        At
		version   int64
		files     int
		wantErrIs error
	}{
		{At{}, 1, 2, nil},
		{At{Version: &v0}, 0, 1, nil},
		{At{Version: &v5}, 0, 0, lake.ErrVersionNotFound},
	} {
		cat := ForLake(Config{Store: store, At: tt.at, URL: "s3://b/lake"})
		snap, err := cat.Snapshot(ctx, events)
		if tt.wantErrIs != nil {
			if !errors.Is(err, tt.wantErrIs) {
				t.Errorf("at %+v: %v, want %v", tt.at, err, tt.wantErrIs)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if snap.Version != tt.version || len(snap.Files()) != tt.files {
			t.Errorf("at %+v: v%d with %d files, want v%d with %d", tt.at, snap.Version, len(snap.Files()), tt.version, tt.files)
		}
		if src, _ := cat.Source(events); src.URL != "s3://b/lake/silver/events" || src.Root != "silver/events" {
			t.Errorf("source of %s: %+v", events, src)
		}
	}

	cat := ForLake(Config{Store: store})
	if names := cat.Names(ctx); len(names) != 1 || names[0] != events {
		t.Errorf("names of the lake: %v, want [%s]", names, events)
	}
	for _, n := range []engine.TableName{{Schema: "silver", Name: "../ref"}, {Schema: "main", Name: "events"}, {Name: "events"}} {
		if _, ok := cat.Source(n); ok {
			t.Errorf("%s: a table of the lake, want none", n)
		}
	}
	if _, err := cat.Snapshot(ctx, engine.TableName{Schema: "gold", Name: "none"}); !errors.Is(err, lake.ErrNoTable) {
		t.Errorf("an unwritten table: %v, want lake.ErrNoTable", err)
	}
}
