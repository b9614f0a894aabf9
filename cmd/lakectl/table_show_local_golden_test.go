package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/internal/footercheck"
	"github.com/lakectl/lakectl/lake/fs"
)

// TestTableShowLocalGolden checks `table show --json` against the golden tables of
// this repository (testdata/delta: tables built from the protocol for cases the shared
// set lacks, such as stats-parsed, whose checkpoint keeps statistics only in
// add.stats_parsed): every file has its numRecords. Their data files pass the footer
// check, statistics against DuckDB's included.
func TestTableShowLocalGolden(t *testing.T) {
	expectations, err := filepath.Glob(filepath.Join("..", "..", "testdata", "delta", "*.expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(expectations) == 0 {
		t.Fatal("no testdata/delta/*.expected.json")
	}
	for _, expPath := range expectations {
		name := strings.TrimSuffix(filepath.Base(expPath), ".expected.json")
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(filepath.Dir(expPath), name)
			checkShowGolden(t, expPath, mustLakectl(t, "table", "show", dir, "--json"))
			store, err := fs.New(dir)
			if err != nil {
				t.Fatal(err)
			}
			if rep := footercheck.Check(t, store); rep.Files == 0 {
				t.Errorf("footer check found no files in %s", dir)
			}
		})
	}
}
