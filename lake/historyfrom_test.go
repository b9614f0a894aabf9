package lake_test

import (
	"testing"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
)

func TestHistoryFrom(t *testing.T) {
	tbl := lake.NewTable(mem.New(), "t")
	writeHistory(t, tbl)
	ctx := t.Context()
	all, err := tbl.History(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, from := range []int64{0, 1, 9, 10, 11, 25} {
		got, err := tbl.HistoryFrom(ctx, from)
		if err != nil {
			t.Fatal(err)
		}
		want := all[from:]
		if len(got) != len(want) || got[0].Version != from || got[len(got)-1].Version != 25 || got[0].FilesAdded != want[0].FilesAdded {
			t.Errorf("from v%d: %d commits starting at v%d, want %d starting at v%d", from, len(got), got[0].Version, len(want), from)
		}
	}
	if got, err := tbl.HistoryFrom(ctx, 26); err != nil || len(got) != 0 {
		t.Errorf("from a version past the last: %v, %v; want none", got, err)
	}
	if _, err := lake.NewTable(mem.New(), "none").HistoryFrom(ctx, 0); err == nil {
		t.Error("history of a missing table: no error")
	}
}
