package e2e

import (
	"testing"

	"github.com/lakectl/lakectl/bronze"
	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/internal/footercheck"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/silver"
)

// checkFooters runs the footer check over every table of the lake, and asserts
// that it covered every layer: Bronze with compacted files among its live ones,
// Silver, quarantine and the reference table.
func checkFooters(t *testing.T, store lake.Store) {
	t.Helper()
	rep := footercheck.Check(t, store)
	for _, root := range []string{layout.TableRoot("events"), silver.Root("events"), silver.QuarantineRoot("events"), silver.RefRoot("users")} {
		if rep.PerTable[root] == 0 {
			t.Errorf("footer check: no live file of %s checked (tables %v)", root, rep.Tables)
		}
	}
	snap, err := lake.NewTable(store, layout.TableRoot("events")).Latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	compacted := 0
	for _, a := range snap.Files() {
		if a.Tags[bronze.TagCompacted] == "true" {
			compacted++
		}
	}
	if compacted == 0 {
		t.Error("footer check: no compacted Bronze file among the live files")
	}
	t.Logf("footer check: %d files of %d tables: %v; %d compacted Bronze files", rep.Files, len(rep.Tables), rep.PerTable, compacted)
}
